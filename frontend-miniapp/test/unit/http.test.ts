import { beforeEach, describe, expect, test } from '@jest/globals';
import { api, ApiError, RequestScope } from '../../miniprogram/core/http';
import { loginCount, TOKEN_KEY } from '../../miniprogram/core/session';
import { deferred, FakeWx, flush, installFakeWx } from '../fake-wx';

let fake: FakeWx;

beforeEach(() => {
  fake = installFakeWx();
});

const ME = { id: 'u1', nickname: 'n', avatarUrl: null, phoneBound: false, points: 0, memberUntil: null };
const UNAUTHORIZED = { status: 401, data: { error: { code: 'unauthorized', message: '请先登录' } } };

describe('the token', () => {
  test('is read from storage at call time and sent as a bearer token', async () => {
    fake.storage.set(TOKEN_KEY, 't-first');
    fake.on('GET', '/api/v1/me', () => ({ status: 200, data: ME }));
    await api({ path: '/me' });
    fake.storage.set(TOKEN_KEY, 't-second');
    await api({ path: '/me' });
    expect(fake.calls('GET', '/api/v1/me').map((r) => r.auth)).toEqual(['Bearer t-first', 'Bearer t-second']);
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(0);
  });

  test('with no token, concurrent calls share one login, with a sandbox code in a develop build', async () => {
    fake.on('GET', '/api/v1/me', () => ({ status: 200, data: ME }));
    const before = loginCount();
    await Promise.all([api({ path: '/me' }), api({ path: '/me' }), api({ path: '/me' })]);
    expect(loginCount() - before).toBe(1);
    expect(fake.calls('POST', '/sandbox/users')).toHaveLength(1);
    expect(fake.calls('POST', '/sandbox/users')[0].data).toEqual({ openid: expect.stringMatching(/^dev-/) });
    expect(fake.calls('POST', '/api/v1/auth/login').map((r) => r.data)).toEqual([{ code: 'code-1' }]);
    expect(fake.calls('GET', '/api/v1/me').map((r) => r.auth)).toEqual(Array(3).fill('Bearer tok-code-1'));
    expect(fake.storage.get(TOKEN_KEY)).toBe('tok-code-1');
  });

  test('the release profile logs in with wx.login, never the sandbox', async () => {
    const { useProfile, profileFor } = await import('../../miniprogram/config/index');
    useProfile(profileFor('release', null));
    fake.on('GET', /\/api\/v1\/me$/, () => ({ status: 200, data: ME }));
    fake.on('POST', /\/auth\/login$/, (req) => ({
      status: 200,
      data: { token: `tok-${(req.data as { code: string }).code}`, expiresIn: 1, user: ME },
    }));
    await api({ path: '/me' });
    expect(fake.calls('POST', '/sandbox/users')).toHaveLength(0);
    expect(fake.requests.every((r) => r.url.startsWith('https://'))).toBe(true);
    expect(fake.storage.get(TOKEN_KEY)).toMatch(/^tok-wx-code-/);
  });
});

describe('a 401', () => {
  test('three concurrent 401s share one login and each call is retried exactly once', async () => {
    fake.storage.set(TOKEN_KEY, 'expired');
    const gate = deferred<void>();
    fake.on('POST', '/api/v1/auth/login', async (req) => {
      await gate.promise; // the login is slow: every 401 arrives while it is in flight
      return { status: 200, data: { token: `new-${(req.data as { code: string }).code}`, expiresIn: 1, user: ME } };
    });
    fake.on('GET', /^\/api\/v1\/items\//, (req) =>
      req.auth === 'Bearer expired' ? UNAUTHORIZED : { status: 200, data: { id: req.path.split('/').pop() } },
    );
    const calls = ['a', 'b', 'c'].map((id) => api<{ id: string }>({ path: `/items/${id}` }));
    await flush();
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
    gate.resolve();
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.id)).toEqual(['a', 'b', 'c']);
    expect(fake.calls('POST', '/sandbox/users')).toHaveLength(1);
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
    for (const id of ['a', 'b', 'c']) {
      expect(fake.calls('GET', `/api/v1/items/${id}`).map((r) => r.auth)).toEqual(['Bearer expired', 'Bearer new-code-1']);
    }
  });

  test('a 401 that comes back after another call already renewed retries with that token, no second login', async () => {
    fake.storage.set(TOKEN_KEY, 'expired');
    const slow = deferred<void>();
    fake.on('GET', '/api/v1/slow', async (req) => {
      if (req.auth === 'Bearer expired') {
        await slow.promise;
        return UNAUTHORIZED;
      }
      return { status: 200, data: { ok: 'slow' } };
    });
    fake.on('GET', '/api/v1/fast', (req) => (req.auth === 'Bearer expired' ? UNAUTHORIZED : { status: 200, data: { ok: 'fast' } }));
    const slowCall = api({ path: '/slow' });
    await api({ path: '/fast' }); // renews
    slow.resolve();
    await expect(slowCall).resolves.toEqual({ ok: 'slow' });
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
    expect(fake.calls('GET', '/api/v1/slow').map((r) => r.auth)).toEqual(['Bearer expired', 'Bearer tok-code-1']);
  });

  test('a second 401 reaches the caller: one login, one retry, no loop', async () => {
    fake.storage.set(TOKEN_KEY, 'expired');
    fake.on('GET', '/api/v1/me', () => UNAUTHORIZED);
    const err = await api({ path: '/me' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).code).toBe('unauthorized');
    expect(fake.calls('GET', '/api/v1/me')).toHaveLength(2);
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
  });

  test('a failed re-login settles every waiting call with its error and never retries without a token', async () => {
    fake.storage.set(TOKEN_KEY, 'expired');
    fake.on('POST', '/api/v1/auth/login', () => ({ status: 401, data: { error: { code: 'invalid_wx_code', message: '微信登录失败' } } }));
    fake.on('GET', /^\/api\/v1\//, () => UNAUTHORIZED);
    const results = await Promise.allSettled([api({ path: '/a' }), api({ path: '/b' }), api({ path: '/c' })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) {
      expect(((r as PromiseRejectedResult).reason as ApiError).code).toBe('invalid_wx_code');
    }
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path !== '/api/v1/auth/login' && r.path !== '/sandbox/users').every((r) => r.auth === 'Bearer expired')).toBe(true);
  });

  test('401 invalid_wx_code (a rejected phone code) is not a session problem: no re-login, no retry', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('POST', '/api/v1/auth/phone', () => ({ status: 401, data: { error: { code: 'invalid_wx_code', message: '手机号授权失败' } } }));
    await expect(api({ method: 'POST', path: '/auth/phone', data: { code: 'x' } })).rejects.toMatchObject({ code: 'invalid_wx_code' });
    expect(fake.calls('POST', '/api/v1/auth/phone')).toHaveLength(1);
    expect(fake.calls('POST', '/api/v1/auth/login')).toHaveLength(0);
  });
});

describe('errors', () => {
  test('an error answer becomes one ApiError with the server message, fields, Retry-After and request id', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('PATCH', '/api/v1/me', () => ({
      status: 422,
      data: { error: { code: 'content_rejected', message: '昵称包含不当内容', fields: { nickname: 'risky' } } },
      headers: { 'x-request-id': 'req-42' },
    }));
    fake.on('POST', '/api/v1/events', () => ({
      status: 429,
      data: { error: { code: 'rate_limited', message: '太快了' } },
      headers: { 'Retry-After': '7', 'X-Request-Id': 'req-43' },
    }));
    const e1 = (await api({ method: 'PATCH', path: '/me', data: { nickname: 'x' } }).catch((e) => e)) as ApiError;
    expect(e1).toBeInstanceOf(ApiError);
    expect(e1).toMatchObject({ status: 422, code: 'content_rejected', message: '昵称包含不当内容', fields: { nickname: 'risky' }, requestId: 'req-42' });
    const e2 = (await api({ method: 'POST', path: '/events', data: {} }).catch((e) => e)) as ApiError;
    expect(e2).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 7, requestId: 'req-43' });
    expect(fake.calls('POST', '/api/v1/events')).toHaveLength(1);
  });

  test('a body that is not the envelope still gives a message for a person', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('GET', '/api/v1/x', () => ({ status: 502, data: '<html>bad gateway</html>' }));
    await expect(api({ path: '/x' })).rejects.toMatchObject({ status: 502, code: 'http_502', message: expect.any(String) });
  });

  test('204 resolves with null', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('POST', '/api/v1/auth/logout', () => ({ status: 204 }));
    await expect(api({ method: 'POST', path: '/auth/logout' })).resolves.toBeNull();
  });
});

describe('transient failures', () => {
  test('a GET is retried once after a network failure', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    let n = 0;
    fake.on('GET', '/api/v1/me', () => (++n === 1 ? { networkError: 'timeout' } : { status: 200, data: ME }));
    await expect(api({ path: '/me' })).resolves.toEqual(ME);
    expect(n).toBe(2);
  });

  test('a GET is retried once after a 503, and a second 503 reaches the caller', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('GET', '/api/v1/me', () => ({ status: 503, data: { error: { code: 'upstream_unavailable', message: '稍后再试' } } }));
    await expect(api({ path: '/me' })).rejects.toMatchObject({ status: 503, code: 'upstream_unavailable', message: '稍后再试' });
    expect(fake.calls('GET', '/api/v1/me')).toHaveLength(2);
  });

  test('two network failures reach the caller as status 0 network_error', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('GET', '/api/v1/me', () => ({ networkError: 'timeout' }));
    await expect(api({ path: '/me' })).rejects.toMatchObject({ status: 0, code: 'network_error' });
    expect(fake.calls('GET', '/api/v1/me')).toHaveLength(2);
  });

  test('a POST without an Idempotency-Key is never retried; with one it is, with the same key', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('POST', '/api/v1/quizzes/q/attempts', () => ({ status: 503, data: { error: { code: 'upstream_unavailable', message: 'x' } } }));
    await expect(api({ method: 'POST', path: '/quizzes/q/attempts' })).rejects.toMatchObject({ status: 503 });
    expect(fake.calls('POST', '/api/v1/quizzes/q/attempts')).toHaveLength(1);
    let n = 0;
    fake.on('POST', '/api/v1/orders', () => (++n === 1 ? { networkError: 'timeout' } : { status: 201, data: { id: 'o1' } }));
    await expect(api({ method: 'POST', path: '/orders', data: { itemId: 'i' }, idempotencyKey: 'k-1' })).resolves.toEqual({ id: 'o1' });
    expect(fake.calls('POST', '/api/v1/orders').map((r) => r.header['Idempotency-Key'])).toEqual(['k-1', 'k-1']);
  });

  test('a GET answered 429 waits a short Retry-After once; a long one reaches the caller at once', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    let n = 0;
    fake.on('GET', '/api/v1/a', () => (++n === 1 ? { status: 429, data: {}, headers: { 'Retry-After': '1' } } : { status: 200, data: { ok: true } }));
    const t0 = Date.now();
    await expect(api({ path: '/a' })).resolves.toEqual({ ok: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    fake.on('GET', '/api/v1/b', () => ({ status: 429, data: {}, headers: { 'Retry-After': '60' } }));
    await expect(api({ path: '/b' })).rejects.toMatchObject({ status: 429, retryAfter: 60 });
    expect(fake.calls('GET', '/api/v1/b')).toHaveLength(1);
  });
});

describe('page lifetime', () => {
  test('unloading the page aborts its requests: they settle as aborted, and later ones are refused', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('GET', '/api/v1/feed', () => new Promise(() => undefined)); // never answers
    const scope = new RequestScope();
    const pending = api({ path: '/feed', scope });
    await flush();
    expect(fake.calls('GET', '/api/v1/feed')).toHaveLength(1);
    scope.abortAll();
    await expect(pending).rejects.toMatchObject({ code: 'aborted', aborted: true });
    expect(fake.aborted.map((r) => r.path)).toEqual(['/api/v1/feed']);
    await expect(api({ path: '/feed', scope })).rejects.toMatchObject({ code: 'aborted' });
    expect(fake.calls('GET', '/api/v1/feed')).toHaveLength(1);
  });

  test('a retry waiting on its back-off ends with the page too', async () => {
    fake.storage.set(TOKEN_KEY, 'good');
    fake.on('GET', '/api/v1/me', () => ({ networkError: 'timeout' }));
    const scope = new RequestScope();
    const pending = api({ path: '/me', scope });
    await flush();
    scope.abortAll();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(fake.calls('GET', '/api/v1/me')).toHaveLength(1);
  });
});
