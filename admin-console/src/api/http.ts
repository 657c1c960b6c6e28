// The one way the console talks to the API: bearer token, API.md's error body as an ApiError (message + field
// errors), a 401 that waits for the re-login dialog and retries once, and a 403 that names the role needed.

export interface ErrorBody {
  error?: { code?: string; message?: string; fields?: Record<string, string> }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly requestId: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface HttpConfig {
  base: string
  /** The current token, read at call time. */
  token: () => string | null
  /**
   * Called on a 401 for a request that carried a token: resolves with a new token once the person has signed in
   * again (the page and its unsaved input stay as they are), or with null if they gave up.
   */
  relogin: () => Promise<string | null>
  /** Called on a 403 password_change_required. */
  passwordChangeRequired?: () => void
  fetch?: typeof fetch
}

let config: HttpConfig = {
  base: '/api/v1',
  token: () => null,
  relogin: async () => null,
}

let renewal: Promise<string | null> | null = null

export function configureHttp(next: Partial<HttpConfig>): void {
  config = { ...config, ...next }
}

const ROLE_TEXT: Record<string, string> = { owner: '所有者', editor: '编辑或所有者' }

/** Which role a write needs, for a 403's message (the server is the one that enforces it). */
export function roleNeeded(method: string, path: string): 'owner' | 'editor' | null {
  if (method === 'GET') return null
  if (/^\/admin\/orders\/[^/]+\/refund$/.test(path) || path.startsWith('/admin/accounts')) return 'owner'
  return 'editor'
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>
  headers?: Record<string, string>
  /** A body that is not JSON (a file upload). */
  form?: FormData
}

export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const sentToken = config.token()
  const first = await send(method, path, body, opts, sentToken)
  if (first.status === 401 && sentToken && !path.endsWith('/login')) {
    // One renewal for a burst of 401s: every request that failed with the same token waits for the same dialog.
    if (!renewal) {
      renewal = config.relogin().finally(() => {
        renewal = null
      })
    }
    const fresh = await renewal
    if (!fresh) throw await toError(first, method, path)
    return parse<T>(await send(method, path, body, opts, fresh), method, path)
  }
  return parse<T>(first, method, path)
}

async function send(method: string, path: string, body: unknown, opts: RequestOptions, token: string | null) {
  const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': 'zh-CN', ...opts.headers }
  if (token) headers.Authorization = `Bearer ${token}`
  let payload: BodyInit | undefined
  if (opts.form) {
    payload = opts.form
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let url = config.base + path
  if (opts.query) {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
    }
    const s = q.toString()
    if (s) url += `?${s}`
  }
  const doFetch = config.fetch ?? fetch
  try {
    return await doFetch(url, { method, headers, body: payload })
  } catch (e) {
    throw new ApiError(0, 'network_error', '网络连接失败，请检查网络后重试')
  }
}

async function parse<T>(res: Response, method: string, path: string): Promise<T> {
  if (res.status === 204) return null as T
  if (res.ok) {
    const text = await res.text()
    return (text ? JSON.parse(text) : null) as T
  }
  throw await toError(res, method, path)
}

async function toError(res: Response, method: string, path: string): Promise<ApiError> {
  let body: ErrorBody = {}
  try {
    body = (await res.json()) as ErrorBody
  } catch {
    // not API.md's body (a proxy's page): keep the status
  }
  const code = body.error?.code ?? `http_${res.status}`
  let message = body.error?.message ?? `请求失败（${res.status}）`
  const requestId = res.headers.get('X-Request-Id')
  const retryAfter = res.headers.get('Retry-After')
  if (res.status === 403 && code === 'password_change_required') {
    config.passwordChangeRequired?.()
    message = '请先修改初始密码'
  } else if (res.status === 403) {
    const role = roleNeeded(method, path)
    message = role ? `权限不足：此操作需要${ROLE_TEXT[role]}角色` : '权限不足：你的角色不能查看此内容'
  } else if (res.status === 401) {
    message = '登录已失效，请重新登录'
  } else if (res.status === 429) {
    message = retryAfter ? `操作太频繁，请在 ${retryAfter} 秒后重试` : '操作太频繁，请稍后重试'
  } else if (res.status >= 500) {
    message = `服务暂时不可用，请稍后重试${requestId ? `（请求编号 ${requestId}）` : ''}`
  }
  return new ApiError(res.status, code, message, body.error?.fields ?? {}, requestId,
    retryAfter ? Number(retryAfter) : null)
}

export const http = {
  get: <T>(path: string, query?: RequestOptions['query']) => request<T>('GET', path, undefined, { query }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
  upload: <T>(path: string, form: FormData) => request<T>('POST', path, undefined, { form }),
}

/**
 * Field errors of a 400 keyed the way a form names its fields: "questions[0].choices" stays as it is, so a form
 * can look up exactly the path it shows.
 */
export function fieldErrors(e: unknown): Record<string, string> {
  return e instanceof ApiError ? e.fields : {}
}
