import { endScope, errorText, scopeOf, toast } from '../../../core/page';
import { getOrder, listOrders } from '../../../services/api';
import type { Order } from '../../../services/types';
import { formatDate, formatMoney } from '../../../utils/format';

/** The user's orders, newest first; a pending one can be re-checked (the server asks WeChat Pay). */
const STATUS: Record<string, string> = {
  pending: '支付结果确认中',
  paid: '已支付',
  closed: '已关闭',
  refunding: '退款中',
  refunded: '已退款',
};

interface Row extends Order {
  statusText: string;
  amountText: string;
  dateText: string;
}

const row = (o: Order): Row => ({ ...o, statusText: STATUS[o.status] ?? o.status, amountText: formatMoney(o.amount), dateText: formatDate(o.createdAt) });
const cursors = new WeakMap<object, string | null>();

Component({
  data: { loading: true, error: '', rows: [] as Row[], end: false },
  methods: {
    onShow() {
      cursors.set(this, null);
      this.setData({ rows: [], end: false });
      return this.loadMore();
    },
    onReachBottom() {
      return this.loadMore();
    },
    onUnload() {
      endScope(this);
    },
    async loadMore() {
      if (this.data.end) return;
      try {
        const page = await listOrders(cursors.get(this) ?? null, scopeOf(this));
        cursors.set(this, page.nextCursor);
        this.setData({ loading: false, rows: this.data.rows.concat(page.items.map(row)), end: page.nextCursor == null });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
      }
    },
    async onRecheck(e: WechatMiniprogram.TouchEvent) {
      const id = (e.currentTarget.dataset as { id: string }).id;
      try {
        const order = await getOrder(id, scopeOf(this));
        this.setData({ rows: this.data.rows.map((r) => (r.id === id ? row(order) : r)) });
      } catch (err) {
        toast(err);
      }
    },
  },
});
