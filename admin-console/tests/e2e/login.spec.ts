import { api, env, expect, signIn, test } from '../support/wxmp'

test('each role signs in and sees what it may do', async ({ page }) => {
  await signIn(page, 'owner')
  await expect(page.locator('[data-test=role]')).toHaveText('所有者')
  await page.getByRole('menuitem', { name: '内容管理' }).click()
  await expect(page.locator('[data-test=new-item]')).toBeVisible()

  await page.locator('[data-test=logout]').click()
  await signIn(page, 'editor')
  await expect(page.locator('[data-test=role]')).toHaveText('编辑')
  await page.getByRole('menuitem', { name: '内容管理' }).click()
  await expect(page.locator('[data-test=new-item]')).toBeVisible()

  await page.locator('[data-test=logout]').click()
  await signIn(page, 'analyst')
  await expect(page.locator('[data-test=role]')).toHaveText('分析员')
  await page.getByRole('menuitem', { name: '内容管理' }).click()
  await expect(page.locator('[data-test=items-table]')).toContainText('Reactive backends in practice')
  await expect(page.locator('[data-test=new-item]')).toHaveCount(0)
  await expect(page.locator('[data-test^=publish-]')).toHaveCount(0)
  await page.locator('[data-test^=edit-]').first().click()
  await expect(page.locator('[data-test=save-item]')).toHaveCount(0)
  await expect(page.locator('[data-test=title]')).toBeDisabled()
})

test('a wrong password is refused and leaves the login page', async ({ page }) => {
  await page.goto(env().api + '/admin/')
  await page.locator('[data-test=username]').fill('demo-analyst')
  await page.locator('[data-test=password]').fill('not-the-password')
  await page.locator('[data-test=login]').click()
  await expect(page.getByText('账号或密码错误')).toBeVisible()
  await expect(page.locator('[data-test=role]')).toHaveCount(0)
  // the failure counted once, and the right password still works (the limit is 5 tries)
  expect((await api('POST', '/admin/login', null, { username: 'demo-analyst', password: env().password })).status).toBe(200)
})
