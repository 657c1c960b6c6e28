import { adminToken, api, expect, newUser, signIn, test } from '../support/wxmp'

test('an editor writes and publishes an item with a 50,000-character body; a user sees it through the API', async ({ page }) => {
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '内容管理' }).click()
  await page.locator('[data-test=new-item]').click()
  const title = `浏览器测试 ${Date.now()}`
  await page.locator('[data-test=title]').fill(title)
  await page.locator('[data-test=price]').fill('9.9x')
  const body = '正文'.repeat(25_000) // 50,000 characters, the limit
  await page.locator('[data-test=body]').fill(body)
  await page.locator('[data-test=save-item]').click()
  await expect(page.getByText('价格格式不正确')).toBeVisible()
  await page.locator('[data-test=price]').fill('19.90')
  await page.locator('[data-test=save-item]').click()
  await expect(page.getByText('已创建')).toBeVisible()
  await expect(page).toHaveURL(/#\/items\/\d+$/)
  const id = /items\/(\d+)$/.exec(page.url())![1]

  // a draft: users do not see it yet
  const user = await newUser()
  expect((await api('GET', `/items/${id}`, user)).status).toBe(404)

  await page.getByRole('button', { name: '返回列表' }).click()
  await page.locator(`[data-test=publish-${id}]`).click()
  await expect(page.locator(`[data-test=status-${id}]`)).toHaveText('已发布')

  const seen = await api('GET', `/items/${id}`, user)
  expect(seen.status).toBe(200)
  expect(seen.body.title).toBe(title)
  expect(seen.body.price).toEqual({ amount: 1990, currency: 'CNY' })
  expect(seen.body.locked).toBe(true)
  const stored = await api('GET', `/admin/items/${id}`, await adminToken('analyst'))
  expect(stored.body.body).toHaveLength(50_000)
  expect(stored.body.body).toBe(body)

  // archive: gone for users who did not buy it
  await page.locator(`[data-test=archive-${id}]`).click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(page.locator(`[data-test=status-${id}]`)).toHaveText('已归档')
  expect((await api('GET', `/items/${id}`, user)).status).toBe(404)
})
