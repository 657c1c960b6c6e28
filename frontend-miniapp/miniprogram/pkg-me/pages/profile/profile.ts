import { upload } from '../../../core/http';
import { ApiError } from '../../../core/errors';
import { endScope, errorText, scopeOf, toast } from '../../../core/page';
import { updateUser } from '../../../core/session';
import { getMe, patchMe } from '../../../services/api';
import type { Me } from '../../../services/types';

/**
 * Avatar and nickname the way WeChat allows now (getUserProfile returns a grey avatar and "微信用户"):
 * <button open-type="chooseAvatar"> gives a temporary file, uploaded to POST /me/avatar; <input type="nickname">
 * offers the WeChat nickname, saved with PATCH /me (WeChat content security may answer 422, shown under the field).
 */
Component({
  data: { avatarUrl: '', nickname: '', nicknameError: '', saving: false, uploading: false },
  methods: {
    async onLoad() {
      try {
        const me: Me = await getMe(scopeOf(this));
        this.setData({ avatarUrl: me.avatarUrl ?? '', nickname: me.nickname ?? '' });
      } catch (e) {
        toast(e);
      }
    },
    onUnload() {
      endScope(this);
    },
    async onChooseAvatar(e: WechatMiniprogram.CustomEvent<{ avatarUrl?: string }>) {
      const file = e.detail?.avatarUrl;
      if (!file) return; // declined (or no privacy consent): keep the old avatar
      this.setData({ uploading: true });
      try {
        const me = await upload<Me>('/me/avatar', file, scopeOf(this));
        updateUser({ avatarUrl: me.avatarUrl });
        this.setData({ avatarUrl: me.avatarUrl ?? file });
      } catch (err) {
        toast(err);
      } finally {
        this.setData({ uploading: false });
      }
    },
    onNicknameInput(e: WechatMiniprogram.Input) {
      this.setData({ nickname: e.detail.value, nicknameError: '' });
    },
    async onSave() {
      const nickname = this.data.nickname.trim();
      if (!nickname || nickname.length > 32) {
        this.setData({ nicknameError: '昵称为 1 到 32 个字' });
        return;
      }
      this.setData({ saving: true, nicknameError: '' });
      try {
        const me = await patchMe({ nickname }, scopeOf(this));
        updateUser({ nickname: me.nickname });
        wx.showToast({ title: '已保存', icon: 'success' });
      } catch (err) {
        if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
          this.setData({ nicknameError: err.fields?.nickname ? err.message : err.message });
        } else {
          toast(errorText(err));
        }
      } finally {
        this.setData({ saving: false });
      }
    },
  },
});
