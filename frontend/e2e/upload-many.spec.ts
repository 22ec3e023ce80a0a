import { expect, test } from '@playwright/test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrowserWatch, expectAllInBucket, expectNoAxeViolations, runIdOnPage, shot } from './helpers'
import { startStack, type Stack } from './stack'

// 1,000 files chosen at once: the list keeps only the rows in view in the page, each row stays
// quick to act on, and Upload makes one run of them. The dev stack's default is 100 files per
// run, so this spec starts a stack that allows 1,000.

const COUNT = 1_000
const name = (i: number) => `file-${String(i).padStart(4, '0')}.txt`
let stack: Stack
let dir = ''
let paths: string[] = []

test.beforeAll(async () => {
  test.setTimeout(120_000)
  dir = mkdtempSync(join(tmpdir(), 'inlet-e2e-many-'))
  paths = Array.from({ length: COUNT }, (_, i) => {
    const path = join(dir, name(i + 1))
    writeFileSync(path, `file ${i + 1}\n`)
    return path
  })
  stack = await startStack('many-files', { INLET_MAX_FILES_PER_RUN: String(COUNT) })
})
test.afterAll(async () => {
  await stack?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('1,000 files: a windowed list, a quick remove, one run', async ({ page, request }, info) => {
  const label = `e2e 1000 files ${Date.now()}`
  await page.goto(stack.pageUrl)
  await page.getByLabel('Label (optional)').fill(label)
  await page.getByTestId('file-input').setInputFiles(paths)
  const list = page.getByRole('region', { name: /^1000 files · / })
  await expect(list).toBeVisible()
  await expect(page.getByTestId('file-row').first()).toContainText(/sha256 [0-9a-f]{64}/)
  // far fewer rows in the page than files
  expect(await page.getByTestId('file-row').count()).toBeLessThan(100)
  await expectNoAxeViolations(page, info, 'many-files')
  await shot(page, info, 'many-01-chosen')

  // scroll the list to file 500 and remove it
  await list.evaluate((box) => box.scrollTo({ top: 41 * 495 }))
  const row500 = page.getByTestId('file-row').filter({ hasText: name(500) })
  await row500.getByRole('button', { name: `Remove ${name(500)}` }).click()
  await expect(page.getByRole('region', { name: /^999 files · / })).toBeVisible()
  await expect(row500).toHaveCount(0)
  await expect(page.getByTestId('file-row').filter({ hasText: name(501) })).toBeVisible()
  expect(await page.getByTestId('file-row').count()).toBeLessThan(100)
  await shot(page, info, 'many-02-removed-500')

  const watch = new BrowserWatch(page)
  await page.getByRole('button', { name: 'Upload 999 files' }).click()
  const runId = await runIdOnPage(page)
  await expectAllInBucket(page, watch, 80_000)
  await shot(page, info, 'many-03-uploaded')
  const run = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(run.file_count).toBe(COUNT - 1)
  expect(run.files.map((f: { name: string }) => f.name)).not.toContain(name(500))
  const runs = await (await request.get(`${stack.apiUrl}/v1/runs?q=${encodeURIComponent(label)}`)).json()
  expect(runs.items.map((r: { id: string }) => r.id)).toEqual([runId])
})
