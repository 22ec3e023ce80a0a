import { expect, test } from '@playwright/test'
import { env, makeFile, MB, partNumberOf, runIdOnPage, shot } from './helpers'
import { startStack, type Stack } from './stack'

// The API's default multipart threshold and part size are 16 MiB: 20 MB goes in 2 parts.
const STORED_TIMEOUT = 60_000

test.describe('uploads through the page served from the bucket', () => {
  test('a multipart file and a small file reach the bucket, the run turns stored, sha256 matches', async ({
    page,
    request,
  }, info) => {
    const big = makeFile('bundle-20mb.bin', 20 * MB)
    const small = makeFile('notes.txt', 2_345)
    await page.goto(env('INLET_E2E_PAGE_URL'))
    await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()

    await page.getByLabel('Run type').selectOption('ds_etc')
    await page.getByLabel('Label (optional)').fill('e2e: two files')
    await page.getByLabel('Notes (optional)').fill('uploaded by the browser test')
    await page.getByTestId('file-input').setInputFiles([big.path, small.path])

    // The page hashes in a Web Worker; its sha256 must be the real one (the server verifies it).
    const bigRow = page.getByTestId('file-row').filter({ hasText: big.name })
    const smallRow = page.getByTestId('file-row').filter({ hasText: small.name })
    await expect(bigRow).toContainText(`sha256 ${big.sha256}`)
    await expect(smallRow).toContainText(`sha256 ${small.sha256}`)
    await shot(page, info, '01-files-chosen')

    const parts: number[] = []
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : null
      if (n) parts.push(n)
    })
    await page.getByRole('button', { name: 'Upload 2 files' }).click()
    await expect(page.getByText('All files are in the bucket')).toBeVisible({ timeout: 60_000 })
    await expect(bigRow).toContainText('2 parts')
    expect(parts.sort()).toEqual([1, 2])
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

    const detail = await (await request.get(`${env('INLET_E2E_API_URL')}/v1/runs/${runId}`)).json()
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

  test('cancel during an upload leaves the run cancelled', async ({ page, request }, info) => {
    const big = makeFile('cancel-me-20mb.bin', 20 * MB)
    await page.goto(env('INLET_E2E_PAGE_URL'))
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
    await expect(page.getByTestId('file-row')).toContainText(`sha256 ${big.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    await part1
    const runId = await runIdOnPage(page)
    await expect(page.getByTestId('file-row')).toContainText('uploading')
    await shot(page, info, '06-uploading')
    await page.getByRole('button', { name: 'Cancel upload' }).click()
    await expect(page.getByText('Upload cancelled.')).toBeVisible()
    await shot(page, info, '07-cancelled')

    const run = await (await request.get(`${env('INLET_E2E_API_URL')}/v1/runs/${runId}`)).json()
    expect(run.status).toBe('cancelled')
    // its multipart upload is gone: the API refuses parts for a run that is not pending
    const fileId = run.files[0].id
    const parts = await request.get(`${env('INLET_E2E_API_URL')}/v1/uploads/${runId}/files/${fileId}/parts`)
    expect(parts.status()).toBe(409)
    expect((await parts.json()).error.code).toBe('run_not_pending')
  })

  test('a reload during a multipart upload resumes it without sending stored parts again', async ({
    page,
    request,
  }, info) => {
    const big = makeFile('resume-40mb.bin', 40 * MB) // 3 parts of 16 MiB
    await page.goto(env('INLET_E2E_PAGE_URL'))
    const holdPart3 = (url: URL) => partNumberOf(url.href) === 3
    await page.route(holdPart3, () => undefined)
    const stored = new Set<number>()
    page.on('response', (r) => {
      const n = partNumberOf(r.url())
      if (n && r.status() === 200) stored.add(n)
    })
    await page.getByLabel('Label (optional)').fill('e2e: resume')
    await page.getByTestId('file-input').setInputFiles(big.path)
    await expect(page.getByTestId('file-row')).toContainText(`sha256 ${big.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    await expect.poll(() => [...stored].sort(), { timeout: 60_000 }).toEqual([1, 2])
    const runId = await runIdOnPage(page)

    page.on('dialog', (dialog) => void dialog.accept()) // "leave the page?" while uploading
    await page.reload() // the held part 3 dies with the page
    await page.unroute(holdPart3)
    await expect(page.getByRole('heading', { name: 'An upload was interrupted' })).toBeVisible()
    await expect(page.getByText(runId)).toBeVisible()
    await shot(page, info, '08-resume-banner')

    // the bucket holds parts 1 and 2 of the file's multipart upload
    const api = env('INLET_E2E_API_URL')
    const fileId = (await (await request.get(`${api}/v1/runs/${runId}`)).json()).files[0].id
    const held = await (await request.get(`${api}/v1/uploads/${runId}/files/${fileId}/parts`)).json()
    expect(held.parts.map((p: { part_number: number }) => p.part_number)).toEqual([1, 2])

    const sent: number[] = []
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : null
      if (n) sent.push(n)
    })
    await page.getByRole('button', { name: 'Resume upload' }).click()
    await page.getByTestId('resume-file-input').setInputFiles(big.path)
    await expect(page.getByText('All files are in the bucket')).toBeVisible({ timeout: 60_000 })
    expect(sent).toEqual([3]) // parts 1 and 2 were already in the bucket
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

  test("a file over the size limit shows the API's message", async ({ page }, info) => {
    const big = makeFile('too-big.bin', 2 * MB)
    await page.goto(small.pageUrl)
    await page.getByTestId('file-input').setInputFiles(big.path)
    await expect(page.getByTestId('file-row')).toContainText(`sha256 ${big.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    const alert = page.getByRole('alert')
    await expect(alert).toContainText(`file 'too-big.bin' is ${2 * MB} bytes; the limit is 1048576 bytes`)
    await expect(alert).toContainText('larger than the maximum file size')
    // nothing was created: the form is still there to fix the choice
    await expect(page.getByRole('button', { name: 'Upload 1 file' })).toBeEnabled()
    await shot(page, info, '10-too-large')
  })
})
