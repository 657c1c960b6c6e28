import { adminToken, api, buy, expect, newUser, paidItem, signIn, test } from '../support/wxmp'
import type { Page } from '@playwright/test'

/** Pixels of the chart's canvas below the legend that are close to a colour: what was actually painted. */
async function painted(page: Page, rgb: [number, number, number]): Promise<number> {
  return page.locator('[data-test=chart] canvas').first().evaluate((canvas: HTMLCanvasElement, [r, g, b]) => {
    const ctx = canvas.getContext('2d')!
    const top = Math.round(44 * (canvas.height / canvas.clientHeight)) // below the legend
    const { data } = ctx.getImageData(0, top, canvas.width, canvas.height - top)
    let n = 0
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) n++
    }
    return n
  }, rgb)
}

interface Drawn { name: string; type: string; data: number[] }

test('the dashboard chart paints the API\'s series, by hour and by day', async ({ page }) => {
  const user = await newUser()
  await buy(user, await paidItem(`看板 ${Date.now()}`, 1234))

  await signIn(page, 'analyst')
  await expect(page.locator('[data-test=card-orders]')).toBeVisible()
  await page.getByText('按小时').click()
  await expect(page.locator('[data-test=chart]')).toHaveAttribute('data-labels', /:00/)

  // today in Asia/Shanghai, the range the page starts its hour view with
  const range = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
  const api24 = await api('GET', `/admin/stats/overview?bucket=hour&from=${range}&to=${range}`, await adminToken('analyst'))
  expect(api24.status).toBe(200)
  const drawn = JSON.parse((await page.locator('[data-test=chart]').getAttribute('data-series'))!) as Drawn[]
  const byName = Object.fromEntries(drawn.map((s) => [s.name, s.data]))
  const series = api24.body.series as Record<string, number>[]
  expect(series).toHaveLength(24)
  expect(byName['订单']).toEqual(series.map((p) => p.orders))
  expect(byName['买家']).toEqual(series.map((p) => p.buyers))
  expect(byName['答题']).toEqual(series.map((p) => p.quizAttempts))
  expect(byName['曝光']).toEqual(series.map((p) => p.impressions))
  expect(byName['点击']).toEqual(series.map((p) => p.clicks))
  expect(byName['收入']).toEqual(series.map((p) => p.revenue / 100))
  expect(byName['退款']).toEqual(series.map((p) => p.refunds / 100))
  expect(series.reduce((a, p) => a + p.revenue, 0)).toBeGreaterThanOrEqual(1234)
  // the revenue bar (#ee6666) and the lines are on the canvas, not just in the option (the clicks line, #3ba272,
  // is drawn last and lies over the others where they are equal)
  expect(await painted(page, [0xee, 0x66, 0x66])).toBeGreaterThan(80)
  expect(await painted(page, [0x3b, 0xa2, 0x72])).toBeGreaterThan(80)
  const totals = api24.body.totals
  await expect(page.locator('[data-test=card-orders]')).toContainText(String(totals.orders))
  await expect(page.locator('[data-test=card-revenue]')).toContainText(
    `¥${Math.trunc(totals.revenue / 100).toLocaleString('en-US')}.${String(totals.revenue % 100).padStart(2, '0')}`)

  await page.getByText('按天').click()
  await expect(page.locator('[data-test=chart]')).not.toHaveAttribute('data-labels', /:00/)
  const days = JSON.parse((await page.locator('[data-test=chart]').getAttribute('data-series'))!) as Drawn[]
  const apiDays = await api('GET', `/admin/stats/overview?bucket=day&from=${range}&to=${range}`, await adminToken('analyst'))
  expect(days.find((s) => s.name === '订单')!.data).toEqual(apiDays.body.series.map((p: { orders: number }) => p.orders))
})
