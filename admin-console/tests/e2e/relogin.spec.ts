import { adminToken, api, env, expect, pageToken, signIn, test } from '../support/wxmp'

test('a token that dies mid-edit opens the re-login dialog, keeps the draft and then saves it', async ({ page }) => {
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '互动问答' }).click()
  await page.locator('[data-test=new-quiz]').click()
  const title = `草稿 ${Date.now()}`
  await page.locator('[data-test=quiz-title]').fill(title)
  await page.locator('[data-test=question-0-text]').fill('最长的河？')
  await page.locator('[data-test=question-0-choice-0]').fill('长江')
  await page.locator('[data-test=question-0-choice-1]').fill('黄河')
  await page.locator('[data-test=question-0-correct-0]').click()

  // the token dies (as at its 12-hour expiry): revoked from outside the page
  expect((await api('POST', '/admin/logout', await pageToken(page))).status).toBe(204)

  await page.locator('[data-test=save-quiz]').click()
  const dialog = page.locator('.el-dialog', { hasText: '登录已失效' })
  await expect(dialog).toBeVisible()
  // the page under the dialog still holds what was typed
  await expect(page.locator('[data-test=quiz-title]')).toHaveValue(title)
  await page.locator('[data-test=relogin-password]').fill(env().password)
  await page.locator('[data-test=relogin-submit]').click()
  await expect(dialog).toBeHidden()
  // the save that met the 401 went through after the re-login
  await expect(page.getByText('已保存')).toBeVisible()
  await expect(page).toHaveURL(/#\/quizzes\/\d+$/)
  const id = /quizzes\/(\d+)$/.exec(page.url())![1]
  const saved = await api('GET', `/admin/quizzes/${id}`, await adminToken('analyst'))
  expect(saved.body.title).toBe(title)
  expect(saved.body.questions[0].choices.map((c: { text: string }) => c.text)).toEqual(['长江', '黄河'])
})

test('a draft survives signing out and back in (kept in the browser until saved)', async ({ page }) => {
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '互动问答' }).click()
  await page.locator('[data-test=new-quiz]').click()
  const title = `未保存 ${Date.now()}`
  await page.locator('[data-test=quiz-title]').fill(title)
  await page.locator('[data-test=question-0-text]').fill('还没写完的题')

  await page.locator('[data-test=logout]').click()
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '互动问答' }).click()
  await page.locator('[data-test=new-quiz]').click()
  await expect(page.locator('[data-test=draft-restored]')).toBeVisible()
  await expect(page.locator('[data-test=quiz-title]')).toHaveValue(title)
  await expect(page.locator('[data-test=question-0-text]')).toHaveValue('还没写完的题')
})
