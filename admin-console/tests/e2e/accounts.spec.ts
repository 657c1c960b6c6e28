import { adminToken, api, env, expect, signIn, test } from '../support/wxmp'
import type { Page } from '@playwright/test'

async function signInAs(page: Page, username: string, password: string) {
  await page.goto(env().api + '/admin/')
  await page.locator('[data-test=username]').fill(username)
  await page.locator('[data-test=password]').fill(password)
  await page.locator('[data-test=login]').click()
}

/** The row of the accounts table that shows this username. */
const accountRow = (page: Page, username: string) =>
  page.locator('[data-test=accounts-table] .el-table__row', { hasText: username })

test('an owner creates an account; its first login must change the temporary password before anything else',
  async ({ page }) => {
    test.setTimeout(180_000) // four sign-ins, each a password hash on a shared two-core machine
    await signIn(page, 'owner')
    await page.getByRole('menuitem', { name: '账号管理' }).click()
    await expect(page.locator('[data-test=accounts-table]')).toContainText('demo-owner')
    const username = `e2e-editor-${Date.now()}`
    await page.locator('[data-test=new-account]').click()
    await page.locator('[data-test=account-username]').fill(username)
    await page.locator('[data-test=account-create]').click()
    const shown = page.locator('[data-test=initial-password-value]')
    await expect(shown).toBeVisible()
    const initial = (await shown.textContent())!.trim()
    expect(initial.length).toBeGreaterThanOrEqual(12)
    await expect(accountRow(page, username)).toContainText('待修改初始密码')
    await expect(accountRow(page, username)).toContainText('编辑')

    // the API agrees, and a token of the temporary password opens nothing but the password change
    const listed = await api('GET', '/admin/accounts?limit=50', await adminToken('owner'))
    const account = listed.body.items.find((a: { username: string }) => a.username === username)
    expect(account).toMatchObject({ role: 'editor', disabled: false, mustChangePassword: true })
    const temporary = await api('POST', '/admin/login', null, { username, password: initial })
    expect(temporary.status).toBe(200)
    expect(temporary.body.mustChangePassword).toBe(true)
    const blocked = await api('GET', '/admin/items', temporary.body.token)
    expect(blocked.status).toBe(403)
    expect(blocked.body.error.code).toBe('password_change_required')

    // the new person signs in: the password page, and no way around it
    await page.locator('[data-test=logout]').click()
    await signInAs(page, username, initial)
    await expect(page).toHaveURL(/#\/password$/)
    await expect(page.locator('[data-test=must-change]')).toBeVisible()
    await expect(page.getByRole('menuitem')).toHaveCount(0)
    await page.goto(env().api + '/admin/#/items')
    await expect(page).toHaveURL(/#\/password$/)
    await expect(page.locator('[data-test=items-table]')).toHaveCount(0)

    // what the form refuses before and after asking the server
    await page.locator('[data-test=current-password]').fill(initial)
    await page.locator('[data-test=new-password]').fill('short')
    await page.locator('[data-test=new-password-again]').fill('short')
    await page.locator('[data-test=change-password]').click()
    await expect(page.getByText('新密码至少 12 个字符')).toBeVisible()
    const chosen = `我的新密码-${Date.now()}`
    await page.locator('[data-test=current-password]').fill('not-the-initial-password')
    await page.locator('[data-test=new-password]').fill(chosen)
    await page.locator('[data-test=new-password-again]').fill(chosen)
    await page.locator('[data-test=change-password]').click()
    await expect(page.getByText('当前密码不正确')).toBeVisible()
    await expect(page).toHaveURL(/#\/password$/)

    await page.locator('[data-test=current-password]').fill(initial)
    await page.locator('[data-test=change-password]').click()
    await expect(page).toHaveURL(/#\/dashboard$/)
    await expect(page.locator('[data-test=role]')).toHaveText('编辑')
    await page.getByRole('menuitem', { name: '内容管理' }).click()
    await expect(page.locator('[data-test=new-item]')).toBeVisible()
    // an editor has no accounts or audit pages
    await expect(page.getByRole('menuitem', { name: '账号管理' })).toHaveCount(0)

    // the change took: the other token of the temporary password is dead, the temporary password no longer works,
    // and the new one signs in straight to the dashboard
    expect((await api('GET', '/admin/items', temporary.body.token)).status).toBe(401)
    expect((await api('POST', '/admin/login', null, { username, password: initial })).status).toBe(401)
    await page.locator('[data-test=logout]').click()
    await signInAs(page, username, chosen)
    await expect(page).toHaveURL(/#\/dashboard$/)
    await expect(page.locator('[data-test=role]')).toHaveText('编辑')
    await page.locator('[data-test=logout]').click()

    // the owner sees the account as it is now, and the audit log has the creation and the change
    await signIn(page, 'owner')
    await page.getByRole('menuitem', { name: '账号管理' }).click()
    await expect(accountRow(page, username)).toContainText('正常')
    await page.getByRole('menuitem', { name: '审计日志' }).click()
    const audit = page.locator('[data-test=audit-table]')
    await expect(audit.locator('.el-table__row', { hasText: '创建账号' }).first()).toContainText('demo-owner')
    await expect(audit.locator('.el-table__row', { hasText: '修改密码' }).first()).toContainText(username)
  })

test('an owner changes an account\'s role and disables it: the account\'s sessions end at once', async ({ page }) => {
  test.setTimeout(120_000)
  const owner = await adminToken('owner')
  const username = `e2e-analyst-${Date.now()}`
  const created = await api('POST', '/admin/accounts', owner, { username, role: 'analyst' })
  expect(created.status).toBe(201)
  const chosen = `另一个新密码-${Date.now()}`
  const first = await api('POST', '/admin/login', null, { username, password: created.body.initialPassword })
  expect((await api('POST', '/admin/password', first.body.token,
    { current: created.body.initialPassword, new: chosen })).status).toBe(204)
  const session = await api('POST', '/admin/login', null, { username, password: chosen })
  expect((await api('GET', '/admin/items', session.body.token)).status).toBe(200)

  await signIn(page, 'owner')
  await page.getByRole('menuitem', { name: '账号管理' }).click()
  const row = accountRow(page, username)
  await expect(row).toContainText('正常')
  await row.locator(`[data-test=role-${username}]`).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '编辑' }).click()
  await expect(page.getByText('已更新')).toBeVisible()
  const afterRole = await api('GET', '/admin/accounts?limit=50', owner)
  expect(afterRole.body.items.find((a: { username: string }) => a.username === username).role).toBe('editor')
  // a role change ends the account's sessions (the token carried the old role)
  expect((await api('GET', '/admin/items', session.body.token)).status).toBe(401)

  const again = await api('POST', '/admin/login', null, { username, password: chosen })
  expect(again.body.role).toBe('editor')
  await row.getByRole('button', { name: '停用' }).click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(row).toContainText('已停用')
  expect((await api('GET', '/admin/items', again.body.token)).status).toBe(401)
  const refused = await api('POST', '/admin/login', null, { username, password: chosen })
  expect(refused.status).toBe(403)
  expect(refused.body.error.code).toBe('account_disabled')

  // the owner cannot change or disable their own account here (a merchant keeps one enabled owner)
  const self = accountRow(page, 'demo-owner')
  await expect(self.getByRole('button', { name: '停用' })).toHaveCount(0)
})

test('accounts and the audit log are the owner\'s: other roles see no menu entry, and the address names the role',
  async ({ page }) => {
    test.setTimeout(120_000)
    for (const role of ['editor', 'analyst'] as const) {
      await signIn(page, role)
      await expect(page.getByRole('menuitem', { name: '内容管理' })).toBeVisible()
      await expect(page.getByRole('menuitem', { name: '账号管理' })).toHaveCount(0)
      await expect(page.getByRole('menuitem', { name: '审计日志' })).toHaveCount(0)
      for (const path of ['accounts', 'audit']) {
        await page.goto(`${env().api}/admin/#/${path}`)
        await expect(page.locator('[data-test=forbidden-reason]')).toContainText('此页面需要所有者角色')
        await expect(page.locator('[data-test=accounts-table], [data-test=audit-table]')).toHaveCount(0)
      }
      // and the server refuses the calls themselves
      const token = await adminToken(role)
      expect((await api('GET', '/admin/accounts', token)).status).toBe(403)
      expect((await api('GET', '/admin/audit', token)).status).toBe(403)
      expect((await api('POST', '/admin/accounts', token, { username: `x${Date.now()}`, role: 'owner' })).status)
        .toBe(403)
      await page.goto(`${env().api}/admin/#/dashboard`)
      await page.locator('[data-test=logout]').click()
    }
  })
