import { config } from '../config/index';
import { ApiError, errorFromResponse } from './errors';
import { renew, token } from './session';
import { RawResponse, RequestScope, send, sleep } from './transport';

/**
 * Every API call goes through `api()`:
 *  - the token is read from storage at call time (Authorization: Bearer), logging in first when there is none;
 *  - on 401 `unauthorized` every waiting call shares one re-login (session.renew) and is retried exactly once with
 *    the new token; a second 401 reaches the caller (never a loop, never an unauthenticated retry);
 *  - every promise settles: data on 2xx (null on 204), else an ApiError (status, code, message, fields,
 *    retryAfter, requestId);
 *  - GETs (and POSTs carrying an Idempotency-Key) are retried once on a network failure or a 503; a GET answered 429
 *    with Retry-After <= 5 s waits that long and is retried once;
 *  - calls made with a page's RequestScope are aborted when the page unloads.
 */
export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ApiRequest {
  method?: Method;
  path: string;
  query?: Record<string, string | number | boolean | null | undefined>;
  data?: unknown;
  /** false for the few calls made without a user token. */
  auth?: boolean;
  idempotencyKey?: string;
  scope?: RequestScope | null;
}

/** Back-off before the one retry of a GET after a network failure or 503. */
export const TRANSIENT_RETRY_MS = 400;
const MAX_RETRY_AFTER_SEC = 5;

export function buildUrl(path: string, query?: ApiRequest['query']): string {
  const parts: string[] = [];
  if (query) {
    for (const key of Object.keys(query)) {
      const v = query[key];
      if (v !== undefined && v !== null && v !== '') parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
    }
  }
  return `${config().apiBase}${path}${parts.length ? `?${parts.join('&')}` : ''}`;
}

export async function api<T>(req: ApiRequest): Promise<T> {
  const method = req.method ?? 'GET';
  const auth = req.auth !== false;
  const retriable = method === 'GET' || req.idempotencyKey != null;
  const url = buildUrl(req.path, req.query);
  let sent: string | null = auth ? await token() : null;
  let authRetried = false;
  let transientRetried = false;
  for (;;) {
    if (req.scope?.closed) throw new ApiError({ status: 0, code: 'aborted', message: '请求已取消' });
    const headers: Record<string, string> = {};
    if (sent) headers.Authorization = `Bearer ${sent}`;
    if (req.idempotencyKey) headers['Idempotency-Key'] = req.idempotencyKey;
    let res: RawResponse;
    try {
      res = await send({ url, method, data: req.data, headers, scope: req.scope });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'network_error' && retriable && !transientRetried) {
        transientRetried = true;
        await sleep(TRANSIENT_RETRY_MS, req.scope);
        continue;
      }
      throw e;
    }
    if (res.status >= 200 && res.status < 300) {
      return (res.status === 204 ? null : res.data) as T;
    }
    const err = errorFromResponse(res.status, res.data, res.headers);
    if (res.status === 401 && auth && err.code === 'unauthorized' && !authRetried) {
      authRetried = true;
      sent = await renew(sent);
      continue;
    }
    if (res.status === 503 && retriable && !transientRetried) {
      transientRetried = true;
      await sleep(Math.max(TRANSIENT_RETRY_MS, Math.min(err.retryAfter ?? 0, MAX_RETRY_AFTER_SEC) * 1000), req.scope);
      continue;
    }
    if (res.status === 429 && method === 'GET' && !transientRetried && err.retryAfter != null
        && err.retryAfter <= MAX_RETRY_AFTER_SEC) {
      transientRetried = true;
      await sleep(err.retryAfter * 1000, req.scope);
      continue;
    }
    throw err;
  }
}

export { ApiError, RequestScope };

/**
 * A file upload (wx.uploadFile, multipart field `file`) with the same token rules as api(): a 401 `unauthorized`
 * shares the one re-login and is retried once; the answer's JSON body is parsed.
 */
export async function upload<T>(path: string, filePath: string, scope?: RequestScope | null): Promise<T> {
  let sent: string | null = await token();
  for (let attempt = 1; ; attempt++) {
    const res = await new Promise<{ status: number; data: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
      if (scope?.closed) {
        reject(new ApiError({ status: 0, code: 'aborted', message: '请求已取消' }));
        return;
      }
      const task = wx.uploadFile({
        url: buildUrl(path),
        filePath,
        name: 'file',
        header: { Authorization: `Bearer ${sent}` },
        success: (r) => {
          let data: unknown = r.data;
          try {
            data = typeof r.data === 'string' && r.data ? JSON.parse(r.data) : r.data;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: r.statusCode, data, headers: {} });
        },
        fail: (e) =>
          reject(new ApiError({ status: 0, code: /abort/.test(e.errMsg) ? 'aborted' : 'network_error', message: '上传失败，请重试' })),
      });
      if (scope && task) scope.track(task);
    });
    if (res.status >= 200 && res.status < 300) return res.data as T;
    const err = errorFromResponse(res.status, res.data, res.headers);
    if (res.status === 401 && err.code === 'unauthorized' && attempt === 1) {
      sent = await renew(sent);
      continue;
    }
    throw err;
  }
}
