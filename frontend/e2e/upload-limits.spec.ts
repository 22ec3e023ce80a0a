import { expect, test } from '@playwright/test'
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectAccessibleInBothSchemes, expectNoAxeViolations, mainStack, shot } from './helpers'

// The server's limits (GET /v1/limits; the dev stack's defaults: 100 files per run, 50 GiB per
// file) are checked when files are chosen, before any of them is hashed, and said in view.

const stack = mainStack()
let dir = ''
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'inlet-e2e-limits-'))
})
test.afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('101 files: the limit is said in view before any hashing; with one removed they are hashed', async ({ page }, info) => {
  const paths = Array.from({ length: 101 }, (_, i) => {
    const path = join(dir, `many-${String(i).padStart(3, '0')}.txt`)
    writeFileSync(path, `file ${i}\n`)
    return path
  })
  await page.goto(stack.pageUrl)
  await page.getByTestId('file-input').setInputFiles(paths)

  const problems = page.getByTestId('upload-problems')
  await expect(problems).toContainText('101 files')
  await expect(problems).toContainText('100')
  await expect(problems).toBeInViewport()
  await expect(page.getByRole('button', { name: 'Upload 101 files' })).toBeDisabled()
  await expect(page.getByRole('button', { name: 'Upload 101 files' })).toBeInViewport()
  const first = page.getByTestId('file-row').first()
  await expect(first).toContainText('sha256: not computed yet')
  await expect(page.getByTestId('file-row').filter({ hasText: /sha256 [0-9a-f]{64}/ })).toHaveCount(0)
  await expect(page.getByText(/checksums \d+%/)).toHaveCount(0) // none is being computed, so none is claimed
  await expectNoAxeViolations(page, info, 'too-many-files')
  await shot(page, info, 'limits-01-101-files')

  await page.getByRole('button', { name: 'Remove many-000.txt' }).click()
  await expect(problems).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Upload 100 files' })).toBeEnabled()
  await expect(page.getByTestId('file-row').first()).toContainText(/sha256 [0-9a-f]{64}/)
})

test('a 51 GiB file is refused as soon as it is chosen, in words and human sizes, never hashed', async ({ page }, info) => {
  // sparse: 51 GiB long, no block of it written
  const huge = join(dir, 'disk image 💽.iso')
  const fd = openSync(huge, 'w')
  ftruncateSync(fd, 51 * 1024 ** 3)
  closeSync(fd)
  const small = join(dir, 'readme.txt')
  writeFileSync(small, 'hello\n')

  await page.goto(stack.pageUrl)
  await page.getByTestId('file-input').setInputFiles([huge, small])
  const row = page.getByTestId('file-row').filter({ hasText: 'disk image 💽.iso' })
  const problem = row.getByTestId('file-problem')
  // 51 GiB is 54.8 GB; the limit 50 GiB is 53.7 GB (decimal units, as file managers show them)
  await expect(problem).toContainText('54.8 GB')
  await expect(problem).toContainText('53.7 GB')
  await expect(row).toContainText('refused')
  await expect(row).not.toContainText(/checksum|sha256 \d/)
  await expect(page.getByText('Computing checksums')).toHaveCount(0)
  const summary = page.getByTestId('upload-problems')
  await expect(summary).toContainText('disk image 💽.iso: ')
  await expect(summary).toBeInViewport()
  await expect(page.getByRole('button', { name: 'Upload 2 files' })).toBeDisabled()
  await expectAccessibleInBothSchemes(page, info, 'file-too-large', 'limits-02-51-gib')

  await summary.getByRole('button', { name: 'Remove 1 refused file' }).click()
  await expect(row).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Upload 1 file' })).toBeEnabled()
})
