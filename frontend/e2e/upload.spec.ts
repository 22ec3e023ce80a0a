import { expect, test } from '@playwright/test'
import {
  BrowserWatch,
  expectAllInBucket,
  mainStack,
  makeFile,
  MB,
  partNumberOf,
  runIdOnPage,
  shot,
  strandUpload,
} from './helpers'
import { multipartUploads, s3Call, startStack, type Stack } from './stack'

// The API's default multipart threshold and part size are 16 MiB: 20 MB goes in 2 parts.
const STORED_TIMEOUT = 60_000

test.describe('uploads from a page on its own origin (cross-origin to the API and the bucket)', () => {
  const stack = mainStack()

  test('the page, the API and the bucket are three origins', () => {
    const origins = [stack.pageUrl, stack.apiUrl, stack.s3Url].map((url) => new URL(url).origin)
    expect(new Set(origins).size).toBe(3)
  })

  test('a multipart file and a small file reach the bucket, the run turns stored, sha256 matches', async ({
    page,
    request,
  }, info) => {
    const big = makeFile('bundle-20mb.bin', 20 * MB)
    const small = makeFile('notes.txt', 2_345)
    const watch = new BrowserWatch(page)
    await page.goto(stack.pageUrl)
    await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()

    await page.getByLabel('Run type').selectOption('ds_etc')
    await page.getByLabel('Label (optional)').fill('e2e: two files')
    await page.getByLabel('Notes (optional)').fill('uploaded by the browser test')
    await page.getByTestId('file-input').setInputFiles([big.path, small.path])

    // The page hashes in a Web Worker; its sha256 must be the real one (the server verifies it).
    // The small file is hashed when chosen; the 20 MB one (multipart) while it uploads.
    const bigRow = page.getByTestId('file-row').filter({ hasText: big.name })
    const smallRow = page.getByTestId('file-row').filter({ hasText: small.name })
    await expect(bigRow).toContainText('sha256: computed while it uploads')
    await expect(smallRow).toContainText(`sha256 ${small.sha256}`)
    await shot(page, info, '01-files-chosen')

    const parts: number[] = []
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : null
      if (n) parts.push(n)
    })
    await page.getByRole('button', { name: 'Upload 2 files' }).click()
    await expectAllInBucket(page, watch)
    await expect(bigRow).toContainText(`sha256 ${big.sha256}`)
    expect(parts.sort()).toEqual([1, 2])

    // Cross-origin for real: the bucket allowed the page's origin and exposed ETag, and the page
    // read each part's ETag from its answer and completed the upload with exactly those.
    await expect.poll(() => watch.parts.length + watch.singlePuts.length).toBe(3)
    for (const put of [...watch.parts, ...watch.singlePuts]) {
      expect(put.status).toBe(200)
      expect(put.origin).toBe(stack.pageOrigin)
      expect(put.headers['access-control-allow-origin']).toBe(stack.pageOrigin)
      expect(put.headers['access-control-expose-headers'] ?? '').toMatch(/\bETag\b/i)
      expect(put.headers.etag).toMatch(/^"[0-9a-f]{32}"$/)
    }
    const etags = Object.fromEntries(watch.parts.map((p) => [p.partNumber, p.headers.etag]))
    expect(watch.completed).toEqual([[
      { part_number: 1, etag: etags[1] },
      { part_number: 2, etag: etags[2] },
    ]])
    await expect(page.getByTestId('overall-percent')).toHaveText('100%')
    await shot(page, info, '02-upload-done')

    const runId = await runIdOnPage(page)
    await page.getByRole('link', { name: 'Open the run' }).click()
    await expect(page.getByTestId('run-id')).toHaveText(runId)
    await expect(page.getByTestId('run-status')).toHaveText('stored', { timeout: STORED_TIMEOUT })
    const bigFile = page.getByTestId('run-file').filter({ hasText: big.name })
    const smallFile = page.getByTestId('run-file').filter({ hasText: small.name })
    await expect(bigFile.getByTestId('file-sha256')).toHaveText(big.sha256)
    await expect(smallFile.getByTestId('file-sha256')).toHaveText(small.sha256)
    await expect(page.getByRole('button', { name: `Copy the sha256 of ${big.name}` })).toBeVisible()
    await expect(page.getByText('Run stored')).toBeVisible()
    await shot(page, info, '03-run-detail-stored')

    const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
    expect(detail.status).toBe('stored')
    expect(detail.label).toBe('e2e: two files')
    expect(detail.type).toBe('ds_etc')

    await page.getByRole('link', { name: 'All runs' }).click()
    const row = page.locator(`[data-run-id="${runId}"]`)
    await expect(row).toContainText('stored')
    await expect(row).toContainText('e2e: two files')
    await shot(page, info, '04-runs')
    await page.getByLabel('Status').selectOption('stored')
    await expect(page).toHaveURL(/#\/runs\?status=stored/)
    await expect(row).toBeVisible()
    await page.setViewportSize({ width: 390, height: 844 })
    await shot(page, info, '05-runs-phone')
  })

  test('cancel during an upload leaves the run cancelled and aborts its multipart upload in the bucket', async ({
    page,
    request,
  }, info) => {
    const big = makeFile('cancel-me-20mb.bin', 20 * MB)
    await page.goto(stack.pageUrl)
    // Part 2 never gets an answer, so the upload is surely still going when we cancel.
    let part1Done: () => void = () => undefined
    const part1 = new Promise<void>((r) => (part1Done = r))
    await page.route(
      (url) => partNumberOf(url.href) === 2,
      () => undefined, // hold the request until the page aborts it
    )
    page.on('response', (r) => {
      if (partNumberOf(r.url()) === 1 && r.status() === 200) part1Done()
    })
    await page.getByTestId('file-input').setInputFiles(big.path)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    await part1
    const runId = await runIdOnPage(page)
    await expect(page.getByRole('button', { name: `Pause ${big.name}` })).toBeVisible() // uploading
    // The bucket holds the file's multipart upload (part 1 in it), under the run's prefix.
    const prefix = `runs/${runId}/`
    const open = await multipartUploads(stack, prefix)
    expect(open).toHaveLength(1)
    expect(open[0]).toMatch(new RegExp(`^${prefix}[^/]+/${big.name}$`))
    await shot(page, info, '06-uploading')
    await page.getByRole('button', { name: 'Cancel upload' }).click()
    await expect(page.getByText('Upload cancelled.')).toBeVisible()
    await shot(page, info, '07-cancelled')

    const run = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
    expect(run.status).toBe('cancelled')
    // The bucket itself no longer holds it (the cancel aborted it), nor any object of the run.
    expect(await multipartUploads(stack, prefix)).toEqual([])
    const objects = await s3Call(stack, 'list_objects_v2', { Bucket: stack.bucket, Prefix: prefix })
    expect(objects.KeyCount).toBe(0)
    // and the API refuses parts for a run that is not pending
    const fileId = run.files[0].id
    const parts = await request.get(`${stack.apiUrl}/v1/uploads/${runId}/files/${fileId}/parts`)
    expect(parts.status()).toBe(409)
    expect((await parts.json()).error.code).toBe('run_not_pending')
  })

  test('a reload during a multipart upload resumes it without sending stored parts again', async ({
    page,
    request,
  }, info) => {
    const big = makeFile('resume-40mb.bin', 40 * MB) // 3 parts of 16 MiB
    const watch = new BrowserWatch(page)
    const runId = await strandUpload(page, stack.pageUrl, big, 'e2e: resume')
    await expect(page.getByRole('heading', { name: 'Unfinished uploads' })).toBeVisible()
    const unfinished = page.getByTestId('unfinished-run')
    await expect(unfinished).toContainText(`Run ${runId.slice(0, 8)} “e2e: resume”`)
    await shot(page, info, '08-unfinished-uploads')

    // the bucket holds parts 1 and 2 of the file's multipart upload
    const api = stack.apiUrl
    const fileId = (await (await request.get(`${api}/v1/runs/${runId}`)).json()).files[0].id
    const held = await (await request.get(`${api}/v1/uploads/${runId}/files/${fileId}/parts`)).json()
    expect(held.parts.map((p: { part_number: number }) => p.part_number)).toEqual([1, 2])

    const sent: number[] = []
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : null
      if (n) sent.push(n)
    })
    await unfinished.getByTestId('resume-file-input').setInputFiles(big.path)
    await expectAllInBucket(page, watch)
    expect(sent).toEqual([3]) // parts 1 and 2 were already in the bucket
    // completed with the bucket's ETags of parts 1 and 2 (listed) and the one part 3's answer showed
    await expect.poll(() => watch.parts.filter((p) => p.partNumber === 3 && p.status === 200).length).toBe(1)
    const part3 = watch.parts.find((p) => p.partNumber === 3 && p.status === 200)
    expect(watch.completed.at(-1)).toEqual(
      held.parts.map((p: { part_number: number; etag: string }) => ({ part_number: p.part_number, etag: p.etag })).concat([
        { part_number: 3, etag: part3?.headers.etag },
      ]),
    )
    await expect(page.getByLabel('Label (optional)')).toHaveValue('e2e: resume')
    await shot(page, info, '09-resumed-done')

    await page.getByRole('link', { name: 'Open the run' }).click()
    await expect(page.getByTestId('run-status')).toHaveText('stored', { timeout: STORED_TIMEOUT })
    await expect(page.getByTestId('file-sha256')).toHaveText(big.sha256)
  })
})

test.describe('limits', () => {
  let small: Stack
  test.beforeAll(async () => {
    test.setTimeout(120_000)
    small = await startStack('limits', { INLET_MAX_FILE_SIZE: String(1024 * 1024) })
  })
  test.afterAll(async () => {
    await small?.stop()
  })

  test('a file over the size limit is refused as soon as it is chosen, in words, never hashed', async ({ page }, info) => {
    const big = makeFile('too-big.bin', 2 * MB)
    await page.goto(small.pageUrl)
    await page.getByTestId('file-input').setInputFiles(big.path)
    const row = page.getByTestId('file-row')
    await expect(row.getByTestId('file-problem')).toHaveText('2.00 MB is over the 1.05 MB limit per file.')
    await expect(row).not.toContainText(/sha256 [0-9a-f]{64}/)
    await expect(page.getByRole('button', { name: 'Upload 1 file' })).toBeDisabled()
    await shot(page, info, '10-too-large')
  })
})
