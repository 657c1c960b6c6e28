/**
 * The one error type every call rejects with. `message` is the server's text for a person (API.md: in the language
 * of Accept-Language), shown as is in toasts; `fields` feeds form errors; `requestId` (X-Request-Id) goes on error
 * screens for support. Network failures have status 0 and code `network_error`; an aborted call (its page unloaded)
 * has code `aborted` and is never shown.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string> | null;
  /** Seconds, from Retry-After (429, 503). */
  readonly retryAfter: number | null;
  readonly requestId: string | null;
  /** The whole error body (a 409 already_submitted carries the stored `result`). */
  readonly body: Record<string, unknown> | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    fields?: Record<string, string> | null;
    retryAfter?: number | null;
    requestId?: string | null;
    body?: Record<string, unknown> | null;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.fields = init.fields ?? null;
    this.retryAfter = init.retryAfter ?? null;
    this.requestId = init.requestId ?? null;
    this.body = init.body ?? null;
  }

  get aborted(): boolean {
    return this.code === 'aborted';
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Header lookup that ignores case (WeChat hands headers over as the server spelled them). */
export function header(headers: Record<string, unknown> | undefined, name: string): string | null {
  if (!headers) return null;
  const want = name.toLowerCase();
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === want) {
      const v = headers[key];
      return v == null ? null : String(v);
    }
  }
  return null;
}

const FALLBACK: Record<number, string> = {
  400: '请求有误',
  401: '登录已失效，请重试',
  403: '没有权限',
  404: '内容不存在或已下架',
  409: '当前状态不允许该操作',
  413: '内容太大',
  422: '内容未通过安全检查',
  429: '操作太频繁，请稍后再试',
  503: '服务繁忙，请稍后再试',
};

/** An error answer (status >= 300) as an ApiError, from API.md's `{"error": {"code", "message", "fields"?}}`. */
export function errorFromResponse(status: number, data: unknown, headers: Record<string, unknown> | undefined): ApiError {
  const body = data && typeof data === 'object' ? (data as Record<string, unknown>) : null;
  const env = body && typeof body.error === 'object' && body.error ? (body.error as Record<string, unknown>) : null;
  const retry = header(headers, 'Retry-After');
  const retryAfter = retry != null && /^\d+$/.test(retry.trim()) ? Number(retry.trim()) : null;
  const code = env && typeof env.code === 'string' ? env.code : `http_${status}`;
  const message =
    env && typeof env.message === 'string' && env.message
      ? env.message
      : FALLBACK[status] ?? (status >= 500 ? '服务暂时不可用，请稍后再试' : '请求失败');
  const fields = env && env.fields && typeof env.fields === 'object' ? (env.fields as Record<string, string>) : null;
  return new ApiError({ status, code, message, fields, retryAfter, requestId: header(headers, 'X-Request-Id'), body });
}

export function networkError(errMsg: string): ApiError {
  return new ApiError({ status: 0, code: 'network_error', message: '网络不可用，请检查网络后重试', body: { errMsg } });
}

export function abortedError(): ApiError {
  return new ApiError({ status: 0, code: 'aborted', message: '请求已取消' });
}
