import { config } from '../config/index';
import { errorFromResponse } from './errors';
import { send } from './transport';

/**
 * Dev-only hooks (develop profile, `sandboxBase` set): the dev server's sandbox plays WeChat. A code from the real
 * wx.login is only known to real WeChat, so a develop build takes its login and phone codes from
 * `POST {sandbox}/sandbox/users` for one stable dev openid, and pays through `POST {sandbox}/sandbox/pay/confirm`.
 * Trial and release builds have no sandboxBase, so none of this runs there.
 */
const DEV_OPENID_KEY = 'wxmp.devOpenid';

export function sandboxEnabled(): boolean {
  return config().sandboxBase != null;
}

/** The dev user of this device: made once, kept in storage, so the same WeChat user logs in every time. */
export function devOpenid(): string {
  const stored = wx.getStorageSync(DEV_OPENID_KEY);
  if (typeof stored === 'string' && stored) return stored;
  const id = `dev-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  wx.setStorageSync(DEV_OPENID_KEY, id);
  return id;
}

async function sandboxPost<T>(path: string, body: unknown): Promise<T> {
  const base = config().sandboxBase;
  if (!base) throw new Error('no sandbox in this profile');
  const res = await send({ url: base + path, method: 'POST', data: body });
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(res.status, res.data, res.headers);
  return res.data as T;
}

export interface SandboxCodes {
  openid: string;
  code: string;
  phoneCode: string;
}

export function sandboxCodes(): Promise<SandboxCodes> {
  return sandboxPost<SandboxCodes>('/sandbox/users', { openid: devOpenid() });
}

/** The simulated user pays: the sandbox marks the transaction paid and sends WeChat Pay's signed notify. */
export function sandboxConfirm(prepayId: string): Promise<unknown> {
  return sandboxPost('/sandbox/pay/confirm', { prepayId });
}
