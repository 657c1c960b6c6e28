import { adminToken, api, buy, expect, newUser, paidItem, signIn, test } from '../support/wxmp'

test('an owner refunds part of an order: refunding, then refunded after WeChat Pay\'s refund notify', async ({ page }) => {
  const user = await newUser()
  const order = await buy(user, await paidItem(`退款测试 ${Date.now()}`, 1990))

  await signIn(page, 'owner')
  await page.getByRole('menuitem', { name: '订单' }).click()
  await expect(page.locator(`[data-test=order-status-${order}]`)).toHaveText('已支付')
  await page.locator(`[data-test=refund-${order}]`).click()
  await expect(page.locator('[data-test=refund-amount]')).toHaveValue('19.90')
  await page.locator('[data-test=refund-amount]').fill('20.00')
  await page.locator('[data-test=refund-reason]').fill('用户申请')
  await page.locator('[data-test=refund-submit]').click()
  await expect(page.getByText('最多可退 19.90 元')).toBeVisible()
  await page.locator('[data-test=refund-amount]').fill('0.29')
  await page.locator('[data-test=refund-submit]').click()
  await expect(page.locator(`[data-test=order-status-${order}]`)).toHaveText(/退款中|已退款/)

  // the sandbox sends the signed refund notify; the list shows the settled state after a refresh
  await expect.poll(async () => {
    await page.locator('[data-test=reload-orders]').click()
    return page.locator(`[data-test=order-status-${order}]`).textContent()
  }, { timeout: 20_000 }).toBe('已退款')
  const seen = await api('GET', `/admin/orders/${order}`, await adminToken('analyst'))
  expect(seen.body.status).toBe('refunded')
  expect(seen.body.refunded).toEqual({ amount: 29, currency: 'CNY' })
  expect((await api('GET', `/orders/${order}`, user)).body.status).toBe('refunded')
})

test('an editor sees no refund button, and the API refuses the editor with 403', async ({ page }) => {
  const order = await buy(await newUser(), await paidItem(`编辑不能退款 ${Date.now()}`, 100))
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '订单' }).click()
  await expect(page.locator(`[data-test=order-status-${order}]`)).toHaveText('已支付')
  await expect(page.locator(`[data-test=refund-${order}]`)).toHaveCount(0)
  await expect(page.locator('[data-test^=refund-]')).toHaveCount(0)

  const refused = await api('POST', `/admin/orders/${order}/refund`, await adminToken('editor'), { reason: 'x' })
  expect(refused.status).toBe(403)
  expect(refused.body.error.code).toBe('forbidden')

})
