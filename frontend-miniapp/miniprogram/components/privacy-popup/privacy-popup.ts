import { answerPrivacy, onPrivacyRequest } from '../../core/privacy';

/**
 * Shown when WeChat asks for consent to the privacy agreement (core/privacy.ts). 同意 is WeChat's own
 * agreePrivacyAuthorization button; 拒绝 declines, and the page goes on without the data the API wanted.
 */
const unsubscribe = new WeakMap<object, () => void>();

Component({
  data: { visible: false },
  lifetimes: {
    attached() {
      unsubscribe.set(this, onPrivacyRequest((showing) => this.setData({ visible: showing })));
    },
    detached() {
      unsubscribe.get(this)?.();
    },
  },
  methods: {
    onAgree() {
      answerPrivacy(true, 'agree-privacy');
      this.triggerEvent('answer', { event: 'agree' });
    },
    onDecline() {
      answerPrivacy(false);
      this.triggerEvent('answer', { event: 'disagree' });
    },
    onOpenContract() {
      if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({});
    },
  },
});
