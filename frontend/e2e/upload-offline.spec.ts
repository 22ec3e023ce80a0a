import { expect, test } from '@playwright/test'
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
  shot,
} from './helpers'

// Offline in the middle of an upload: the page says so instead of showing the last speed, and the
// upload goes on by itself when the connection is back.

const stack = mainStack()

test('offline during an upload: said in words, no stale speed; back online it finishes stored', async ({ page, context, request }, info) => {
  const big = makeFile('offline-40mb.bin', 40 * MB)
  const watch = new BrowserWatch(page)
  await page.goto(stack.pageUrl)
  // Each part waits a little before it goes, so the upload is surely under way when the
  // connection drops.
  const isPart = (url: URL) => partNumberOf(url.href) !== null
  await page.route(isPart, async (route) => {
    await new Promise((r) => setTimeout(r, 1_500))
    await route.continue().catch(() => undefined) // fails while offline: the page retries
  })
  await page.getByTestId('file-input').setInputFiles(big.path)
  await page.getByRole('button', { name: 'Upload 1 file' }).click()
  const runId = await runIdOnPage(page)
  const status = page.getByTestId('upload-status')
  await expect(status).toContainText('of 40.0 MB')

  await context.setOffline(true)
  await expect(status).toContainText('Offline: the upload waits and continues when the connection is back.')
  await expect(status).not.toContainText('/s')
  await expect(status).not.toContainText('left')
  await expectNoAxeViolations(page, info, 'offline')
  await shot(page, info, 'offline-01-waiting')

  await context.setOffline(false)
  await page.unroute(isPart)
  await expectAllInBucket(page, watch)
  await shot(page, info, 'offline-02-done')
  await expectStored(request, stack, runId)
  const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(detail.files[0].sha256).toBe(big.sha256)
})
