import { beforeEach, describe, expect, test } from '@jest/globals';
import { installPrivacyBridge, privacyPending } from '../../miniprogram/core/privacy';
import { FakeWx, installFakeWx } from '../fake-wx';
import { mount, settle, text } from '../render';

let fake: FakeWx;
beforeEach(() => {
  fake = installFakeWx();
});

describe('the privacy popup alone', () => {
  test('agree: WeChat asks, the popup shows, 同意 resolves agree and hides it', async () => {
    installPrivacyBridge();
    const popup = mount('components/privacy-popup/privacy-popup');
    expect(text(popup)).toBe('');
    const answers: unknown[] = [];
    fake.privacyHandler!((r) => answers.push(r));
    await settle();
    expect(text(popup)).toContain('用户隐私保护指引');
    popup.querySelector('#agree-privacy')!.dispatchEvent('agreeprivacyauthorization');
    await settle();
    expect(answers).toEqual([{ event: 'agree', buttonId: 'agree-privacy' }]);
    expect(text(popup)).toBe('');
    expect(privacyPending()).toBe(false);
  });


  test('a popup attached after WeChat asked shows at once', async () => {
    installPrivacyBridge();
    fake.privacyHandler!(() => undefined);
    const popup = mount('components/privacy-popup/privacy-popup');
    await settle();
    expect(text(popup)).toContain('用户隐私保护指引');
  });
});
