import { expect, type Route, test } from '@playwright/test'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import {
  BrowserWatch,
  expectAllInBucket,
  expectNoAxeViolations,
  expectStored,
  mainStack,
  makeFile,
  MB,
  partNumberOf,
  runIdOnPage,
  sha256Of,
  shot,
} from './helpers'

// A file rewritten on disk after it was chosen cannot be read by the page any more: the page must
// say so (not "connection lost, retry", which can never work) and take the file chosen again.

const stack = mainStack()

test('a file changed during its upload says so; chosen again, the new file is stored', async ({ page, request }, info) => {
  // 70 MB: 5 parts of 16 MiB, 4 in flight at once, so part 5 is read from the disk only after
  // one of them is answered, which is held until the file has changed.
  const file = makeFile('changing 📄 70mb.bin', 70 * MB)
  const watch = new BrowserWatch(page)
  await page.goto(stack.pageUrl)
  const held: Route[] = []
  const isPart = (url: URL) => partNumberOf(url.href) !== null
  await page.route(isPart, (route) => void held.push(route))

  await page.getByTestId('file-input').setInputFiles(file.path)
  await page.getByRole('button', { name: 'Upload 1 file' }).click()
  await expect.poll(() => held.length, { timeout: 30_000 }).toBeGreaterThan(0)
  const firstRun = await runIdOnPage(page)

  const changed = randomBytes(3 * MB) // another size and other bytes, same path
  writeFileSync(file.path, changed)
  await page.unroute(isPart)
  for (const route of held) await route.continue().catch(() => undefined)

  const row = page.getByTestId('file-row').filter({ hasText: file.name })
  await expect(row.getByTestId('file-problem')).toContainText('changed', { timeout: 60_000 })
  await expect(row).not.toContainText(/connection|network/i)
  const again = row.getByLabel(`Choose ${file.name} again`)
  await expect(row.getByText('Choose it again', { exact: true })).toBeVisible()
  await expect(page.getByRole('button', { name: `Retry ${file.name}` })).toHaveCount(0)
  await expectNoAxeViolations(page, info, 'changed-file')
  await shot(page, info, 'changed-01-message')

  await again.setInputFiles(file.path)
  await expect(row).toContainText(`sha256 ${sha256Of(changed)}`)
  await page.getByRole('button', { name: 'Upload 1 file' }).click()
  await expectAllInBucket(page, watch)
  await shot(page, info, 'changed-02-stored')

  const runId = await runIdOnPage(page)
  expect(runId).not.toBe(firstRun)
  await expectStored(request, stack, runId)
  const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(detail.files.map((f: { name: string; sha256: string; size_bytes: number }) => [f.name, f.size_bytes, f.sha256])).toEqual([
    [file.name, changed.length, sha256Of(changed)],
  ])
  // the run of the old bytes did not stay pending
  const old = await (await request.get(`${stack.apiUrl}/v1/runs/${firstRun}`)).json()
  expect(old.status).toBe('cancelled')
})
