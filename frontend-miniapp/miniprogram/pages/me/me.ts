import { ApiError } from '../../core/errors';
import { endScope, errorText, scopeOf, toast } from '../../core/page';
import { sandboxCodes, sandboxEnabled } from '../../core/sandbox';
import { clearSession, updateUser } from '../../core/session';
import { bindPhone, deleteMe, exportMe, getMe, myItems, patchMe } from '../../services/api';
import type { Me } from '../../services/types';
import { Entry, toEntry } from '../../utils/entry';
import { formatDate } from '../../utils/format';

/**
 * The me tab: points, membership, owned items, orders and profile links, phone binding (asked for only here, where
 * the user chooses to: each successful getPhoneNumber costs the merchant, so the button goes away once bound), the
 * personalisation switch (PATCH /me personalised), export and account deletion.
 */
Component({
  data: {
    loading: true,
    error: '',
    me: null as Me | null,
    memberText: '',
    phoneBound: false,
    phoneMasked: '',
    binding: false,
    personalised: true,
    owned: [] as Entry[],
    ownedNote: '',
  },
  methods: {
    onShow() {
      return this.load();
    },

    onUnload() {
      endScope(this);
    },

    async load() {
      try {
        const me = await getMe(scopeOf(this));
        const member = me.memberUntil && new Date(me.memberUntil).getTime() > Date.now();
        this.setData({
          loading: false,
          error: '',
          me,
          memberText: member ? `会员有效期至 ${formatDate(me.memberUntil)}` : '',
          phoneBound: me.phoneBound,
          personalised: me.personalised !== false,
        });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
        return;
      }
      try {
        const page = await myItems(null, scopeOf(this));
        this.setData({ owned: page.items.map((o) => toEntry({ ...o.item, locked: false })), ownedNote: '' });
      } catch (e) {
        if (e instanceof ApiError && e.aborted) return;
        this.setData({ owned: [], ownedNote: e instanceof ApiError && e.status === 404 ? '' : errorText(e) });
      }
    },

    /** <t-button open-type="getPhoneNumber">: no code means declined, no quota or no privacy consent: change nothing. */
    async onGetPhoneNumber(e: WechatMiniprogram.CustomEvent<{ code?: string; errMsg?: string }>) {
      const code = e.detail?.code;
      if (!code) {
        toast('未获取到手机号，可稍后再绑定');
        return;
      }
      if (this.data.binding) return;
      this.setData({ binding: true });
      try {
        // a develop build: the phone button's code is only known to real WeChat; the sandbox gives one for the dev user
        const phoneCode = sandboxEnabled() ? (await sandboxCodes()).phoneCode : code;
        const res = await bindPhone(phoneCode, scopeOf(this));
        updateUser({ phoneBound: true });
        this.setData({ phoneBound: true, phoneMasked: res.phoneMasked });
      } catch (err) {
        toast(err);
      } finally {
        this.setData({ binding: false });
      }
    },

    async onPersonalised(e: WechatMiniprogram.CustomEvent<{ value: boolean }>) {
      const value = e.detail.value;
      const before = this.data.personalised;
      this.setData({ personalised: value });
      try {
        const me = await patchMe({ personalised: value }, scopeOf(this));
        this.setData({ personalised: me.personalised !== false });
      } catch (err) {
        this.setData({ personalised: before });
        toast(err);
      }
    },

    async onExport() {
      try {
        const data = await exportMe(scopeOf(this));
        const text = JSON.stringify(data, null, 2);
        wx.setClipboardData({ data: text });
        const orders = Array.isArray(data.orders) ? data.orders.length : 0;
        wx.showModal({ title: '个人数据已复制', content: `已复制全部个人数据（${orders} 笔订单），可粘贴保存。`, showCancel: false });
      } catch (err) {
        toast(err);
      }
    },

    onDelete() {
      wx.showModal({
        title: '注销账号',
        content: '将删除你的资料、手机号、浏览记录和积分，订单仅以匿名形式保留。此操作不可恢复。',
        confirmText: '注销',
        confirmColor: '#e34d59',
        success: async (r) => {
          if (!r.confirm) return;
          try {
            await deleteMe();
            clearSession();
            wx.showToast({ title: '账号已注销', icon: 'none' });
            wx.reLaunch({ url: '/pages/feed/feed' });
          } catch (err) {
            toast(err);
          }
        },
      });
    },

    onOrders() {
      wx.navigateTo({ url: '/pkg-me/pages/orders/orders' });
    },
    onProfile() {
      wx.navigateTo({ url: '/pkg-me/pages/profile/profile' });
    },
    onQuizzes() {
      wx.navigateTo({ url: '/pkg-quiz/pages/list/list' });
    },
    onPick(e: WechatMiniprogram.CustomEvent<{ id: string }>) {
      wx.navigateTo({ url: `/pkg-content/pages/item/item?id=${encodeURIComponent(e.detail.id)}` });
    },
  },
});
