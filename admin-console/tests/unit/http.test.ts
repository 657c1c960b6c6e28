import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError, configureHttp, http, roleNeeded } from '../../src/api/http'

interface Call { method: string; url: string; headers: Record<string, string>; body?: string }

/** A scripted server: each route answers from a function; every call is recorded. */
function server(routes: Record<string, (call: Call) => Response>) {
  const calls: Call[] = []
  const fetch = async (url: string, init: RequestInit) => {
    const call = { method: init.method ?? 'GET', url, headers: init.headers as Record<string, string>,
      body: init.body as string | undefined }
    calls.push(call)
    const route = routes[`${call.method} ${url.split('?')[0]}`]
    if (!route) return json(404, { error: { code: 'not_found', message: 'No such resource.' } })
    return route(call)
  }
  return { calls, fetch: fetch as unknown as typeof globalThis.fetch }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

let token: string | null
beforeEach(() => {
  token = 'old'
})

describe('the fetch wrapper', () => {
  it('sends the bearer token and JSON, and answers the parsed body', async () => {
    const s = server({ 'POST /api/v1/admin/items': (c) => json(201, { id: '7', echo: JSON.parse(c.body!) }) })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    const answer = await http.post<{ id: string; echo: unknown }>('/admin/items', { title: '标题' })
    expect(answer).toEqual({ id: '7', echo: { title: '标题' } })
    expect(s.calls[0].headers.Authorization).toBe('Bearer old')
    expect(s.calls[0].headers['Content-Type']).toBe('application/json')
  })

  it('turns API.md\'s error body into an ApiError with field errors', async () => {
    const s = server({
      'POST /api/v1/admin/items': () => json(400, { error: { code: 'bad_request', message: 'Some fields are invalid.',
        fields: { title: 'must be 1..120 characters' } } }, { 'X-Request-Id': 'r-1' }),
    })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    const e = await http.post('/admin/items', {}).catch((x) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(400)
    expect(e.code).toBe('bad_request')
    expect(e.fields).toEqual({ title: 'must be 1..120 characters' })
    expect(e.requestId).toBe('r-1')
  })

  it('on a 401 waits for one re-login shared by every failed request, then retries each once', async () => {
    let logins = 0
    const s = server({
      'GET /api/v1/admin/items': (c) => c.headers.Authorization === 'Bearer new'
        ? json(200, { items: [], nextCursor: null })
        : json(401, { error: { code: 'unauthorized', message: 'expired' } }),
    })
    let release: (t: string) => void = () => {}
    configureHttp({
      fetch: s.fetch, token: () => token,
      relogin: () => {
        logins += 1
        return new Promise((resolve) => {
          release = (t) => {
            token = t
            resolve(t)
          }
        })
      },
    })
    const pending = [http.get('/admin/items'), http.get('/admin/items'), http.get('/admin/items')]
    await new Promise((r) => setTimeout(r, 10))
    expect(logins).toBe(1) // the dialog opens once, whatever the number of requests that failed
    release('new')
    const answers = await Promise.all(pending)
    expect(answers).toEqual([{ items: [], nextCursor: null }, { items: [], nextCursor: null }, { items: [], nextCursor: null }])
    expect(s.calls.filter((c) => c.headers.Authorization === 'Bearer new')).toHaveLength(3)
    expect(s.calls).toHaveLength(6)
  })

  it('a cancelled re-login or a second 401 reaches the caller instead of looping', async () => {
    const s = server({ 'GET /api/v1/admin/items': () => json(401, { error: { code: 'unauthorized', message: 'x' } }) })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    const cancelled = await http.get('/admin/items').catch((x) => x)
    expect(cancelled.status).toBe(401)
    expect(s.calls).toHaveLength(1)

    configureHttp({ relogin: async () => 'still-bad' })
    const again = await http.get('/admin/items').catch((x) => x)
    expect(again.status).toBe(401)
    expect(s.calls).toHaveLength(3)
  })

  it('a wrong password at login is not a re-login', async () => {
    let opened = false
    const s = server({ 'POST /api/v1/admin/login': () => json(401, { error: { code: 'unauthorized', message: 'x' } }) })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => { opened = true; return 'x' } })
    const e = await http.post('/admin/login', { username: 'a', password: 'b' }).catch((x) => x)
    expect(e.status).toBe(401)
    expect(opened).toBe(false)
  })

  it('a 403 says which role is needed', async () => {
    const forbidden = () => json(403, { error: { code: 'forbidden', message: 'Your role may not do this.' } })
    const s = server({ 'POST /api/v1/admin/orders/5/refund': forbidden, 'PATCH /api/v1/admin/items/5': forbidden })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    expect((await http.post('/admin/orders/5/refund', { reason: 'x' }).catch((x) => x)).message).toContain('所有者')
    expect((await http.patch('/admin/items/5', {}).catch((x) => x)).message).toContain('编辑或所有者')
    expect(roleNeeded('GET', '/admin/items')).toBeNull()
    expect(roleNeeded('POST', '/admin/accounts')).toBe('owner')
  })

  it('a 204 answers null, a 429 names the wait, a network failure is an ApiError', async () => {
    const s = server({
      'POST /api/v1/admin/logout': () => new Response(null, { status: 204 }),
      'POST /api/v1/admin/login': () => json(429, { error: { code: 'rate_limited', message: 'x' } }, { 'Retry-After': '30' }),
    })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    expect(await http.post('/admin/logout')).toBeNull()
    const limited = await http.post('/admin/login', {}).catch((x) => x)
    expect(limited.retryAfter).toBe(30)
    expect(limited.message).toContain('30')
    configureHttp({ fetch: (async () => { throw new TypeError('Failed to fetch') }) as unknown as typeof fetch })
    const down = await http.get('/admin/items').catch((x) => x)
    expect(down).toBeInstanceOf(ApiError)
    expect(down.code).toBe('network_error')
  })

  it('encodes the query and leaves out empty values', async () => {
    const s = server({ 'GET /api/v1/admin/stats/overview': () => json(200, {}) })
    configureHttp({ fetch: s.fetch, token: () => token, relogin: async () => null })
    await http.get('/admin/stats/overview', { from: '2026-12-01T00:00:00+08:00', to: '', bucket: 'hour' })
    expect(s.calls[0].url).toBe('/api/v1/admin/stats/overview?from=2026-12-01T00%3A00%3A00%2B08%3A00&bucket=hour')
  })
})
