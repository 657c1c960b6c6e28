import { config } from '../config/index';
import { errorFromResponse } from './errors';
import { sandboxCodes, sandboxEnabled } from './sandbox';
import { send } from './transport';

/**
 * The user's session: the token in storage, and one login at a time. `token()` gives the stored token or logs in;
 * `renew(sent)` is what a 401 calls: it joins a login already in flight, takes a token someone else renewed since
 * `sent` went out, or starts the one login. A WeChat login code works once, so two concurrent wx.login calls would be
 * a bug: everything goes through the single `inflight` promise.
 */
export const TOKEN_KEY = 'wxmp.token';
export const USER_KEY = 'wxmp.user';

export interface SessionUser {
  id: string;
  nickname: string | null;
  avatarUrl: string | null;
  phoneBound: boolean;
  isNew: boolean;
}

interface LoginAnswer {
  token: string;
  expiresIn: number;
  user: SessionUser;
}

let inflight: Promise<string> | null = null;
let logins = 0;

export function storedToken(): string | null {
  const t = wx.getStorageSync(TOKEN_KEY);
  return typeof t === 'string' && t ? t : null;
}

export function currentUser(): SessionUser | null {
  const u = wx.getStorageSync(USER_KEY);
  return u && typeof u === 'object' ? (u as SessionUser) : null;
}

export function updateUser(patch: Partial<SessionUser>): void {
  const u = currentUser();
  if (u) wx.setStorageSync(USER_KEY, { ...u, ...patch });
}

export function token(): Promise<string> {
  const t = storedToken();
  return t ? Promise.resolve(t) : login();
}

export function renew(sent: string | null): Promise<string> {
  if (inflight) return inflight;
  const now = storedToken();
  if (now && now !== sent) return Promise.resolve(now);
  return login();
}

export function login(): Promise<string> {
  if (!inflight) {
    inflight = doLogin().finally(() => {
      inflight = null;
    });
  }
  return inflight;
}

/** How many logins this session started (tests, and a diagnostic). */
export function loginCount(): number {
  return logins;
}

export function clearSession(): void {
  wx.removeStorageSync(TOKEN_KEY);
  wx.removeStorageSync(USER_KEY);
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => (r.code ? resolve(r.code) : reject(new Error('wx.login gave no code'))),
      fail: (e) => reject(new Error(e.errMsg || 'wx.login failed')),
    });
  });
}

async function doLogin(): Promise<string> {
  logins += 1;
  const code = sandboxEnabled() ? (await sandboxCodes()).code : await wxLoginCode();
  const res = await send({ url: `${config().apiBase}/auth/login`, method: 'POST', data: { code } });
  if (res.status !== 200) throw errorFromResponse(res.status, res.data, res.headers);
  const answer = res.data as LoginAnswer;
  wx.setStorageSync(TOKEN_KEY, answer.token);
  wx.setStorageSync(USER_KEY, answer.user);
  return answer.token;
}
