import { adminToken, api, expect, newUser, signIn, test } from '../support/wxmp'
import { crc32, deflateSync } from 'node:zlib'

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

/** A real 16×16 PNG of one colour (the browser decodes it), made here with zlib. */
function png(rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(16, 0)
  header.writeUInt32BE(16, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  const rows = Buffer.concat(Array.from({ length: 16 }, () => Buffer.from([0, ...Array(16).fill(rgb).flat()])))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}

test('an editor uploads a cover: the server keeps the image, the item shows it, and a GIF is refused', async ({ page }) => {
  await signIn(page, 'editor')
  await page.getByRole('menuitem', { name: '内容管理' }).click()
  await page.locator('[data-test=new-item]').click()
  await page.locator('[data-test=title]').fill(`封面测试 ${Date.now()}`)

  // a GIF named .png: the server reads the bytes
  await page.locator('[data-test=cover-file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png',
    buffer: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1') })
  await expect(page.getByText('只支持 JPEG、PNG 或 WebP 格式的图片')).toBeVisible()
  await expect(page.locator('[data-test=cover-url]')).toHaveValue('')

  const image = png([0x33, 0x99, 0xcc])
  await page.locator('[data-test=cover-file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: image })
  await expect(page.locator('[data-test=cover-url]')).toHaveValue(/\/media\/[0-9a-f]{32}$/)
  const url = await page.locator('[data-test=cover-url]').inputValue()
  // the preview is the uploaded image, decoded by the browser under the console's CSP
  await expect.poll(() => page.locator('img.cover-preview').evaluate((img: HTMLImageElement) =>
    img.complete ? img.naturalWidth : 0)).toBe(16)

  await page.locator('[data-test=save-item]').click()
  await expect(page.getByText('已创建')).toBeVisible()
  await expect(page).toHaveURL(/#\/items\/\d+$/) // the editor moves to the new item's address after the toast
  const id = /items\/(\d+)$/.exec(page.url())![1]
  const stored = await api('GET', `/admin/items/${id}`, await adminToken('analyst'))
  expect(stored.body.coverUrl).toBe(url)
  const served = await fetch(url)
  expect(served.status).toBe(200)
  expect(served.headers.get('content-type')).toBe('image/png')
  expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true)
})
