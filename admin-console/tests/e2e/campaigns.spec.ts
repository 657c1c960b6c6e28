import { createHmac, randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { adminToken, api, expect, newUser, signIn, test } from '../support/wxmp'

/** A feed token as the server issues it (FeedToken's wire form), signed with the key the test server runs with. */
function feedToken(userId: string, itemId: string, campaignId: string): string {
  const payload = JSON.stringify(['1', randomBytes(16).toString('base64url'), userId, itemId, 0, 'sponsored',
    campaignId, null, null, 'm-e2e', Date.now()])
  const key = Buffer.from(process.env.WXMP_E2E_TOKEN_KEY!, 'base64')
  return `${Buffer.from(payload).toString('base64url')}.${createHmac('sha256', key).update(payload).digest('base64url')}`
}

async function painted(page: Page, rgb: [number, number, number]): Promise<number> {
  return page.locator('[data-test=chart] canvas').first().evaluate((canvas: HTMLCanvasElement, [r, g, b]) => {
    const ctx = canvas.getContext('2d')!
    const top = Math.round(44 * (canvas.height / canvas.clientHeight))
    const { data } = ctx.getImageData(0, top, canvas.width, canvas.height - top)
    let n = 0
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) n++
    }
    return n
  }, rgb)
}

test('an editor creates, pauses and resumes a campaign; after feed traffic its stats chart paints the API\'s series', async ({ page }) => {
  const editor = await adminToken('editor')
  const item = await api('POST', '/admin/items', editor, { kind: 'article', title: `推广内容 ${Date.now()}`,
    body: 'b', status: 'published', tags: ['tea'] })
  expect(item.status).toBe(201)

  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '推广活动' }).click()
  await page.locator('[data-test=new-campaign]').click()
  const name = `活动 ${Date.now()}`
  await page.locator('[data-test=campaign-name]').fill(name)
  await page.locator('[data-test=campaign-item]').click()
  await page.getByRole('option', { name: item.body.title }).click()
  await page.getByText('按点击 (CPC)').click()
  await page.locator('[data-test=campaign-bid]').fill('0.5')
  await page.locator('[data-test=campaign-total]').fill('100')
  await page.locator('[data-test=campaign-daily]').fill('200')
  await page.locator('[data-test=campaign-status]').getByText('投放中').click()
  await page.locator('[data-test=save-campaign]').click()
  await expect(page.getByText('日预算不能超过总预算')).toBeVisible()
  await page.locator('[data-test=campaign-daily]').fill('50.00')
  await page.locator('[data-test=save-campaign]').click()
  await expect(page).toHaveURL(/#\/campaigns\/\d+$/)
  const id = /campaigns\/(\d+)$/.exec(page.url())![1]
  const created = await api('GET', `/admin/campaigns/${id}`, editor)
  expect(created.body.bid).toEqual({ model: 'cpc', amount: 50 })
  expect(created.body.budget).toEqual({ total: 10000, daily: 5000 })
  expect(created.body.status).toBe('active')

  await page.getByRole('button', { name: '返回列表' }).click()
  await page.locator(`[data-test=campaign-pause-${id}]`).click()
  await expect(page.locator(`[data-test=campaign-status-${id}]`)).toHaveText('已暂停')
  expect((await api('GET', `/admin/campaigns/${id}`, editor)).body.status).toBe('paused')
  await page.locator(`[data-test=campaign-resume-${id}]`).click()
  await expect(page.locator(`[data-test=campaign-status-${id}]`)).toHaveText('投放中')

  // scripted feed traffic: 5 users see the sponsored slot, 2 of them click it
  for (let u = 0; u < 5; u++) {
    const token = await newUser()
    const me = await api('GET', '/me', token)
    const t = feedToken(me.body.id, item.body.id, id)
    const events = [{ itemId: item.body.id, type: 'impression', token: t }]
    if (u < 2) events.push({ itemId: item.body.id, type: 'click', token: t })
    expect((await api('POST', '/events', token, { events })).status).toBe(202)
  }
  await expect.poll(async () => (await api('GET', `/admin/campaigns/${id}/stats?bucket=hour`, editor)).body.totals.clicks,
    { timeout: 15_000 }).toBe(2)
  const stats = await api('GET', `/admin/campaigns/${id}/stats?bucket=hour`, editor)
  expect(stats.body.totals.impressions).toBe(5)
  expect(stats.body.totals.spend).toBe(100)

  await page.locator(`[data-test=campaign-stats-${id}]`).click()
  await expect(page.locator('[data-test=campaign-card-ctr]')).toContainText('40.00%')
  await expect(page.locator('[data-test=campaign-card-spend]')).toContainText('¥1.00')
  await expect(page.locator('[data-test=campaign-card-remainingBudget]')).toContainText('¥99.00')
  const drawn = JSON.parse((await page.locator('[data-test=chart]').getAttribute('data-series'))!) as
    { name: string; data: number[] }[]
  const byName = Object.fromEntries(drawn.map((s) => [s.name, s.data]))
  const series = stats.body.series as { impressions: number; clicks: number; spend: number }[]
  expect(byName['曝光']).toEqual(series.map((p) => p.impressions))
  expect(byName['点击']).toEqual(series.map((p) => p.clicks))
  expect(byName['花费']).toEqual(series.map((p) => p.spend / 100))
  expect(await painted(page, [0xee, 0x66, 0x66])).toBeGreaterThan(40) // the spend bar
  expect(await painted(page, [0x3b, 0xa2, 0x72])).toBeGreaterThan(10) // the clicks line (one point: its symbol)
})
