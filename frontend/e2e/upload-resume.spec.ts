import { expect, test } from '@playwright/test'
import {
  BrowserWatch,
  expectAccessibleInBothSchemes,
  expectAllInBucket,
  expectNoAxeViolations,
  expectStored,
  mainStack,
  makeFile,
  MB,
  partNumberOf,
  shot,
  strandUpload,
} from './helpers'
import { multipartUploads } from './stack'

// A run whose upload was interrupted (a reload here) is listed as unfinished, and can be finished
// from the normal drop zone without creating a second run, or cancelled from the list.

const stack = mainStack()

test('a stranded run is finished from the normal drop zone: the same run, stored, right sha256', async ({ page, request }, info) => {
  const label = `e2e stranded ${Date.now()}`
  const big = makeFile('stranded 🧩 40mb.bin', 40 * MB)
  const watch = new BrowserWatch(page)
  const runId = await strandUpload(page, stack.pageUrl, big, label)

  const item = page.getByTestId('unfinished-run')
  await expect(page.getByRole('heading', { name: 'Unfinished uploads' })).toBeVisible()
  await expect(item).toHaveCount(1)
  await expect(item).toContainText(`Run ${runId.slice(0, 8)} “${label}” (app_bundle)`)
  await expect(item).toContainText(`Still to send: 1 of 1 file (40.0 MB): ${big.name}`)
  await expectNoAxeViolations(page, info, 'unfinished-list')
  await shot(page, info, 'resume-01-unfinished-list')

  // The obvious move: the same file on the normal drop zone. The page offers to finish the run.
  await page.getByTestId('file-input').setInputFiles(big.path)
  const offer = page.getByTestId('resume-offer')
  await expect(offer).toContainText(`This file is the rest of run ${runId.slice(0, 8)} “${label}” (app_bundle).`)
  await expect(page.getByRole('button', { name: 'Upload 1 file' })).toBeDisabled()
  await expectAccessibleInBothSchemes(page, info, 'resume-offer', 'resume-02-offer')

  const sent: number[] = []
  page.on('request', (r) => {
    const n = r.method() === 'PUT' ? partNumberOf(r.url()) : null
    if (n) sent.push(n)
  })
  await offer.getByRole('button', { name: 'Resume it' }).click()
  await expectAllInBucket(page, watch)
  expect(sent).toEqual([3]) // parts 1 and 2 were in the bucket already
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0)
  await shot(page, info, 'resume-03-done')

  await expectStored(request, stack, runId)
  const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(detail.files.map((f: { name: string; sha256: string }) => [f.name, f.sha256])).toEqual([[big.name, big.sha256]])
  // one run: the drop resumed it instead of creating another
  const runs = await (await request.get(`${stack.apiUrl}/v1/runs?q=${encodeURIComponent(label)}`)).json()
  expect(runs.items.map((r: { id: string }) => r.id)).toEqual([runId])
})

test('cancelling a stranded run from the list cancels it and removes its parts from the bucket', async ({ page, request }, info) => {
  const label = `e2e discard ${Date.now()}`
  const runId = await strandUpload(page, stack.pageUrl, makeFile('discard-me-40mb.bin', 40 * MB), label)
  expect(await multipartUploads(stack, `runs/${runId}/`)).toHaveLength(1)

  const item = page.getByTestId('unfinished-run').filter({ hasText: runId.slice(0, 8) })
  await item.getByRole('button', { name: `Cancel run ${runId.slice(0, 8)}` }).click()
  await expect(item).toHaveCount(0)
  await expect(page.getByRole('heading', { name: 'Unfinished uploads' })).toHaveCount(0)
  await shot(page, info, 'resume-04-discarded')

  const run = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(run.status).toBe('cancelled')
  expect(await multipartUploads(stack, `runs/${runId}/`)).toEqual([])
  // and a reload does not bring it back
  await page.reload()
  await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0)
})
