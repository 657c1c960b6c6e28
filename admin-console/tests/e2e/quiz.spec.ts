import { adminToken, api, expect, signIn, test } from '../support/wxmp'

test('the quiz editor insists on exactly one correct choice per question', async ({ page }) => {
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '互动问答' }).click()
  await page.locator('[data-test=new-quiz]').click()
  const title = `测验 ${Date.now()}`
  await page.locator('[data-test=quiz-title]').fill(title)
  await page.locator('[data-test=question-0-text]').fill('1 + 1 = ?')
  await page.locator('[data-test=question-0-choice-0]').fill('2')
  await page.locator('[data-test=question-0-choice-1]').fill('3')
  await page.locator('[data-test=question-0-add-choice]').click()
  await page.locator('[data-test=question-0-choice-2]').fill('4')

  // no correct choice marked: refused in the page, nothing sent
  let posted = 0
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/admin/quizzes')) posted += 1 })
  await page.locator('[data-test=save-quiz]').click()
  await expect(page.getByText('每题必须有且只有一个正确选项')).toBeVisible()
  expect(posted).toBe(0)

  // marking one, then another, leaves exactly one marked
  await page.locator('[data-test=question-0-correct-1]').click()
  await page.locator('[data-test=question-0-correct-0]').click()
  await expect(page.locator('[data-test=question-0] .el-radio.is-checked')).toHaveCount(1)
  await page.locator('[data-test=save-quiz]').click()
  await expect(page.getByText('已保存')).toBeVisible()
  await expect(page).toHaveURL(/#\/quizzes\/\d+$/)
  const id = /quizzes\/(\d+)$/.exec(page.url())![1]

  const quiz = await api('GET', `/admin/quizzes/${id}`, await adminToken('analyst'))
  expect(quiz.body.title).toBe(title)
  const choices = quiz.body.questions[0].choices as { text: string; correct: boolean }[]
  expect(choices.map((c) => c.text)).toEqual(['2', '3', '4'])
  expect(choices.filter((c) => c.correct).map((c) => c.text)).toEqual(['2'])

  // the server holds the same rule for a client that skips the page
  const two = await api('POST', '/admin/quizzes', await adminToken('editor'), {
    title: 'x', timeLimitSec: 60, maxAttempts: 1, pointsPerCorrect: 1,
    questions: [{ text: 'q', choices: [{ text: 'a', correct: true }, { text: 'b', correct: true }] }],
  })
  expect(two.status).toBe(400)
  expect(two.body.error.fields['questions[0].choices']).toBeTruthy()
})
