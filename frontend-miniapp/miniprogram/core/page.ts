import { ApiError } from './errors';
import { RequestScope } from './transport';

/**
 * Per-page helpers. Pages are written with Component() (see README), so the page instance is the key: each page gets
 * one RequestScope, aborted in its onUnload.
 */
const scopes = new WeakMap<object, RequestScope>();

export function scopeOf(page: object): RequestScope {
  let s = scopes.get(page);
  if (!s || s.closed) {
    s = new RequestScope();
    scopes.set(page, s);
  }
  return s;
}

export function endScope(page: object): void {
  const s = scopes.get(page);
  if (s) {
    s.abortAll();
  }
}

/** The text to show for a failure; '' for an aborted call (its page is gone: show nothing). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.aborted) return '';
    return e.requestId ? `${e.message}（请求号 ${e.requestId}）` : e.message;
  }
  return '出了点问题，请稍后再试';
}

export function toast(e: unknown): void {
  const text = typeof e === 'string' ? e : errorText(e);
  if (text) wx.showToast({ title: text, icon: 'none' });
}

/** Feed tokens by item id, so the item page's events carry the token of the slot the user came from. */
const feedTokens = new Map<string, string>();

export function rememberToken(itemId: string, token: string | undefined | null): void {
  if (token) feedTokens.set(itemId, token);
}

export function tokenFor(itemId: string): string | null {
  return feedTokens.get(itemId) ?? null;
}
