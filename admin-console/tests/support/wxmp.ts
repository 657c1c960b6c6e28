// What the browser tests need from the real server, through its HTTP API and the sandbox (never the database).
import { expect, test as base, type Page } from '@playwright/test'

export const env = () => ({
  api: process.env.WXMP_E2E_API!,
  sandbox: process.env.WXMP_E2E_SANDBOX!,
  password: process.env.WXMP_E2E_PASSWORD!,
})

export type Role = 'owner' | 'editor' | 'analyst'

async function call<T>(base: string, method: string, path: string, token?: string | null, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

export const api = <T = any>(method: string, path: string, token?: string | null, body?: unknown) =>
  call<T>(env().api + '/api/v1', method, path, token, body)
export const sandbox = <T = any>(method: string, path: string, body?: unknown) =>
  call<T>(env().sandbox, method, path, null, body)

export async function adminToken(role: Role, password = env().password): Promise<string> {
  const r = await api('POST', '/admin/login', null, { username: `demo-${role}`, password })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.token
}

/** A new WeChat user logged in through the sandbox (what wx.login gives the mini-program). */
export async function newUser(): Promise<string> {
  const wx = await sandbox('POST', '/sandbox/users', {})
  const r = await api('POST', '/auth/login', null, { code: wx.body.code })
  expect(r.status).toBe(200)
  return r.body.token
}

/** A published paid item of the demo merchant, made through the API. */
export async function paidItem(title: string, fen: number): Promise<string> {
  const r = await api('POST', '/admin/items', await adminToken('editor'), {
    kind: 'article', title, summary: 's', body: 'the body', status: 'published',
    price: { amount: fen, currency: 'CNY' },
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body.id
}

/** A user buys the item: POST /orders, then the sandbox plays the cashier and WeChat Pay's notify. */
export async function buy(userToken: string, itemId: string): Promise<string> {
  const order = await api('POST', '/orders', userToken, { itemId })
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const prepayId = String(order.body.payParams.package).replace('prepay_id=', '')
  expect((await sandbox('POST', '/sandbox/pay/confirm', { prepayId })).status).toBe(200)
  await expect.poll(async () => (await api('GET', `/orders/${order.body.id}`, userToken)).body.status,
    { timeout: 15_000 }).toBe('paid')
  return order.body.id
}

/** Signs in through the login page and waits for the dashboard. */
export async function signIn(page: Page, role: Role, password = env().password) {
  await page.goto(env().api + '/admin/')
  await page.locator('[data-test=username]').fill(`demo-${role}`)
  await page.locator('[data-test=password]').fill(password)
  await page.locator('[data-test=login]').click()
  await expect(page.locator('[data-test=role]')).toBeVisible()
}

/** The token the page holds (sessionStorage), to act as the same account from the test. */
export async function pageToken(page: Page): Promise<string> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('wxmp.admin.session') ?? '{}').token)
}

/**
 * Every test fails on a script error or a Content-Security-Policy violation in the page: the console must run
 * under its strict CSP.
 */
export const test = base.extend<{ problems: string[] }>({
  problems: [async ({ page }, use) => {
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text())
    })
    await use(problems)
    expect(problems).toEqual([])
  }, { auto: true }],
})
export { expect }
