import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrowserWatch, expectAllInBucket, expectNoAxeViolations, expectStored, mainStack, runIdOnPage, sha256Of, shot } from './helpers'

// Files come in more ways than the picker: a whole folder (each file named by its path in it),
// a paste, and a drop anywhere on the page, with an overlay while they are dragged.

const stack = mainStack()
let dir = ''
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'inlet-e2e-folders-'))
})
test.afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('a folder, a paste and a drop on the page add files; the run keeps the paths', async ({ page, request }, info) => {
  const folder = join(dir, 'site configs')
  mkdirSync(join(folder, 'été 🌞'), { recursive: true })
  writeFileSync(join(folder, 'inputs.conf'), '[monitor:///var/log]\n')
  writeFileSync(join(folder, 'été 🌞', 'props.conf'), '[syslog]\n')
  await page.goto(stack.pageUrl)

  await page.getByTestId('file-input-folder').setInputFiles(folder)
  const row = (name: string) => page.getByTestId('file-row').filter({ hasText: name })
  await expect(row('site configs/inputs.conf')).toBeVisible()
  await expect(row('site configs/été 🌞/props.conf')).toBeVisible()

  // Ctrl+V of a file copied elsewhere: the browser hands the page a paste event holding it
  await page.evaluate(() => {
    const data = new DataTransfer()
    data.items.add(new File(['pasted bytes\n'], 'pasted.txt', { type: 'text/plain' }))
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  })
  await expect(row('pasted.txt')).toBeVisible()

  // a file dragged over the page, far from the drop zone: the overlay says what a drop does
  const dropped = await page.evaluateHandle(() => {
    const data = new DataTransfer()
    data.items.add(new File(['dropped bytes\n'], 'dropped.txt', { type: 'text/plain' }))
    return data
  })
  await page.dispatchEvent('h1', 'dragenter', { dataTransfer: dropped })
  await page.dispatchEvent('h1', 'dragover', { dataTransfer: dropped })
  const overlay = page.getByTestId('drop-overlay')
  await expect(overlay).toContainText('Drop to add 1 file')
  await shot(page, info, 'folders-01-drop-overlay')
  await page.dispatchEvent('h1', 'drop', { dataTransfer: dropped })
  await expect(overlay).toHaveCount(0)
  await expect(row('dropped.txt')).toBeVisible()
  await expectNoAxeViolations(page, info, 'folder-paste-drop')
  await shot(page, info, 'folders-02-chosen')

  const watch = new BrowserWatch(page)
  await page.getByRole('button', { name: 'Upload 4 files' }).click()
  await expectAllInBucket(page, watch)
  const runId = await runIdOnPage(page)
  await expectStored(request, stack, runId)
  const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  const files = Object.fromEntries(detail.files.map((f: { name: string; sha256: string }) => [f.name, f.sha256]))
  expect(files).toEqual({
    'site configs/inputs.conf': sha256Of('[monitor:///var/log]\n'),
    'site configs/été 🌞/props.conf': sha256Of('[syslog]\n'),
    'pasted.txt': sha256Of('pasted bytes\n'),
    'dropped.txt': sha256Of('dropped bytes\n'),
  })
})
