import { beforeEach, describe, expect, test } from '@jest/globals';
import { installPrivacyBridge } from '../../miniprogram/core/privacy';
import { TOKEN_KEY, USER_KEY } from '../../miniprogram/core/session';
import { FakeWx, installFakeWx } from '../fake-wx';
import { has, mount, settle, text } from '../render';

const ME = { id: 'u1', nickname: '读者', avatarUrl: null, phoneBound: false, points: 30, memberUntil: '2099-01-01T00:00:00+08:00', personalised: true };

let fake: FakeWx;
beforeEach(() => {
  fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'tok');
  fake.storage.set(USER_KEY, { id: 'u1' });
  fake.on('GET', '/api/v1/me', () => ({ status: 200, data: ME }));
  fake.on('GET', '/api/v1/me/items', () => ({
    status: 200,
    data: { items: [{ item: { id: 'i9', kind: 'course', title: 'Owned course', summary: '', coverUrl: null, tags: [], price: { amount: 990, currency: 'CNY' }, locked: false, sponsored: false, campaignId: null }, source: 'purchase', since: '2026-12-01T00:00:00Z' }], nextCursor: null },
  }));
  fake.on('POST', '/api/v1/auth/phone', (req) => ({ status: 200, data: { phoneBound: true, phoneMasked: `138****${String((req.data as { code: string }).code).slice(-1)}000` } }));
});

describe('the me page', () => {
  test('shows points, membership and owned items', async () => {
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    expect(text(me)).toContain('积分 30');
    expect(text(me)).toContain('会员有效期至 2099-01-01');
    expect(text(me)).toContain('Owned course');
    expect(text(me)).toContain('已拥有');
  });

  test('phone: a decline (no code) changes nothing and keeps the button; a code binds and the button goes away', async () => {
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    await me.instance.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    await settle();
    expect(fake.calls('POST', '/api/v1/auth/phone')).toHaveLength(0);
    expect(has(me, '.bind-phone')).toBe(true);
    expect(fake.toasts).toHaveLength(1);

    await me.instance.onGetPhoneNumber({ detail: { code: 'devtools-code' } });
    await settle();
    // a develop build swaps in the sandbox's phone code for the dev user
    expect(fake.calls('POST', '/api/v1/auth/phone').map((r) => r.data)).toEqual([{ code: 'phone-1' }]);
    expect(has(me, '.bind-phone')).toBe(false);
    expect(text(me)).toContain('138****1000');
  });

  test('the release build sends the phone button code itself', async () => {
    const { useProfile, profileFor } = await import('../../miniprogram/config/index');
    useProfile({ ...profileFor('release', null), apiBase: 'http://api.test/api/v1' });
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    await me.instance.onGetPhoneNumber({ detail: { code: 'real-code-7' } });
    await settle();
    expect(fake.calls('POST', '/sandbox/users')).toHaveLength(0);
    expect(fake.calls('POST', '/api/v1/auth/phone').map((r) => r.data)).toEqual([{ code: 'real-code-7' }]);
  });

  test('the personalisation switch PATCHes /me (as POST + override) and rolls back on failure', async () => {
    let fail = false;
    fake.on('PATCH', '/api/v1/me', (req) =>
      fail ? { status: 503, data: { error: { code: 'upstream_unavailable', message: '稍后再试' } } } : { status: 200, data: { ...ME, ...(req.data as object) } },
    );
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    await me.instance.onPersonalised({ detail: { value: false } });
    expect(me.data.personalised).toBe(false);
    const patch = fake.calls('PATCH', '/api/v1/me')[0];
    expect(patch.data).toEqual({ personalised: false });
    expect(patch.header['X-HTTP-Method-Override']).toBe('PATCH');
    fail = true;
    await me.instance.onPersonalised({ detail: { value: true } });
    expect(me.data.personalised).toBe(false);
  });

  test('delete account asks first, then erases the session and restarts', async () => {
    fake.on('DELETE', '/api/v1/me', () => ({ status: 204 }));
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    fake.modalAnswers = [false];
    me.instance.onDelete();
    await settle();
    expect(fake.calls('DELETE', '/api/v1/me')).toHaveLength(0);
    fake.modalAnswers = [true];
    me.instance.onDelete();
    await settle();
    expect(fake.calls('DELETE', '/api/v1/me')).toHaveLength(1);
    expect(fake.storage.has(TOKEN_KEY)).toBe(false);
    expect(fake.navigations).toEqual(['/pages/feed/feed']);
  });

  test('export copies every piece of personal data', async () => {
    fake.on('GET', '/api/v1/me/export', () => ({ status: 200, data: { profile: ME, orders: [{ id: 'o1' }], points: [], attempts: [], events: [], interests: [] } }));
    const me = mount('pages/me/me');
    await me.instance.onExport();
    expect(JSON.parse(fake.storage.get('__clipboard') as string).orders).toEqual([{ id: 'o1' }]);
    expect(fake.modals[0].content).toContain('1 笔订单');
  });
});

describe('the privacy popup', () => {
  test('decline: resolves disagree, and the page it sits on keeps working (the phone button is still there)', async () => {
    installPrivacyBridge();
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    const answers: unknown[] = [];
    fake.privacyHandler!((r) => answers.push(r));
    await settle();
    expect(text(me)).toContain('用户隐私保护指引');
    me.querySelector('.privacy')!.querySelector('.decline')!.dispatchEvent('tap');
    await settle();
    expect(answers).toEqual([{ event: 'disagree' }]);
    expect(text(me)).not.toContain('用户隐私保护指引');
    // WeChat then fails the API that wanted consent: getPhoneNumber comes back without a code
    await me.instance.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail privacy permission is not authorized' } });
    await settle();
    expect(has(me, '.bind-phone')).toBe(true);
    await me.instance.onShow();
    await settle();
    expect(text(me)).toContain('积分 30');
  });
});
