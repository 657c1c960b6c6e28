import { ApiError } from '../../../core/errors';
import { events, track } from '../../../core/events';
import { endScope, errorText, scopeOf, toast, tokenFor } from '../../../core/page';
import { canSell } from '../../../core/platform';
import { currentUser } from '../../../core/session';
import { getItem, getOrder } from '../../../services/api';
import { purchase, resetIntent } from '../../../services/pay';
import type { Item } from '../../../services/types';
import { formatMoney } from '../../../utils/format';

/**
 * An item: the body when free or owned, else the preview and (where selling is allowed) the price and a buy button.
 * Paying: see services/pay.ts. The page unlocks only on the server's word (it reloads the item after `paid`).
 */
type PayState = '' | 'cancelled' | 'confirming' | 'failed';

const state = new WeakMap<object, { itemId: string; enteredAt: number; completed: boolean; pendingOrderId: string | null }>();

function st(page: object) {
  let s = state.get(page);
  if (!s) {
    s = { itemId: '', enteredAt: Date.now(), completed: false, pendingOrderId: null };
    state.set(page, s);
  }
  return s;
}

Component({
  data: {
    loading: true,
    error: '',
    item: null as Item | null,
    locked: true,
    sellable: false,
    priceText: '',
    paying: false,
    payState: '' as PayState,
    payMessage: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const s = st(this);
      s.itemId = query.id ?? '';
      s.enteredAt = Date.now();
      if (query.from && s.itemId) {
        // an open from a share: attribute it to the user who shared
        track({ itemId: s.itemId, type: 'click', ref: query.from, token: tokenFor(s.itemId) });
      }
      return this.load();
    },

    onShow() {
      const s = st(this);
      s.enteredAt = Date.now();
      if (s.pendingOrderId) return this.recheck();
      return undefined;
    },

    onHide() {
      this.reportDwell();
      void events.flush();
    },

    onUnload() {
      this.reportDwell();
      endScope(this);
      void events.flush();
    },

    onReachBottom() {
      const s = st(this);
      if (!this.data.locked && this.data.item?.body && !s.completed) {
        s.completed = true;
        track({ itemId: s.itemId, type: 'complete', token: tokenFor(s.itemId) });
      }
    },

    onShareAppMessage() {
      const s = st(this);
      const me = currentUser();
      track({ itemId: s.itemId, type: 'share', token: tokenFor(s.itemId) }); // the intent: WeChat reports no success
      const from = me ? `&from=${encodeURIComponent(me.id)}` : '';
      return {
        title: this.data.item?.title ?? '',
        path: `/pkg-content/pages/item/item?id=${encodeURIComponent(s.itemId)}${from}`,
      };
    },

    reportDwell() {
      const s = st(this);
      const ms = Date.now() - s.enteredAt;
      if (s.itemId && ms >= 1000) track({ itemId: s.itemId, type: 'dwell', dwellMs: ms, token: tokenFor(s.itemId) });
      s.enteredAt = Date.now();
    },

    async load() {
      const s = st(this);
      if (!s.itemId) {
        this.setData({ loading: false, error: '内容不存在' });
        return;
      }
      try {
        const item = await getItem(s.itemId, scopeOf(this));
        const locked = item.locked === true || item.body == null;
        this.setData({
          loading: false,
          error: '',
          item,
          locked,
          sellable: locked && item.price != null && canSell(item.kind),
          priceText: formatMoney(item.price),
        });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
      }
    },

    async onBuy() {
      const s = st(this);
      if (this.data.paying || !this.data.sellable) return; // a double tap while the cashier opens does nothing
      this.setData({ paying: true, payState: '', payMessage: '' });
      try {
        const out = await purchase(s.itemId, scopeOf(this));
        switch (out.kind) {
          case 'paid':
          case 'owned':
            s.pendingOrderId = null;
            await this.load();
            break;
          case 'cancelled':
            this.setData({ payState: 'cancelled', payMessage: '已取消支付' });
            break;
          case 'pending':
            s.pendingOrderId = out.order.id;
            this.setData({ payState: 'confirming', payMessage: '支付结果确认中' });
            break;
          case 'failed':
            this.setData({ payState: 'failed', payMessage: out.message });
            toast(out.message);
            break;
        }
      } catch (e) {
        if (e instanceof ApiError && e.aborted) return;
        this.setData({ payState: 'failed', payMessage: errorText(e) });
        toast(e);
      } finally {
        if (!scopeOf(this).closed) this.setData({ paying: false });
      }
    },

    /** A payment still confirming: ask the server again (onShow, or the 刷新 link). */
    async recheck() {
      const s = st(this);
      if (!s.pendingOrderId) return;
      try {
        const order = await getOrder(s.pendingOrderId, scopeOf(this));
        if (order.status === 'paid') {
          s.pendingOrderId = null;
          resetIntent(s.itemId);
          this.setData({ payState: '', payMessage: '' });
          await this.load();
        } else if (order.status === 'closed') {
          s.pendingOrderId = null;
          resetIntent(s.itemId);
          this.setData({ payState: 'failed', payMessage: '订单已关闭，未扣款' });
        }
      } catch (e) {
        toast(e);
      }
    },
  },
});
