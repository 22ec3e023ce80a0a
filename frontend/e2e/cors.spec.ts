import { expect, test } from '@playwright/test'
import { BrowserWatch, makeFile, MB, productCorsRules, runIdOnPage, shot } from './helpers'
import { multipartUploads, s3Call, startStack, type Stack } from './stack'

// The page is on an origin of its own (stack.ts), so the upload bucket's CORS rule decides what
// the browser may do. These tests change the rule of their own stack's bucket (the API keeps
// allowing the page) and watch the browser refuse: proof that the other specs would see a
// bucket that stopped allowing the page or stopped exposing ETag.
test.describe("the upload bucket's CORS rule, as the browser enforces it", () => {
  let stack: Stack
  test.beforeAll(async () => {
    test.setTimeout(120_000)
    stack = await startStack('cors')
  })
  test.afterAll(async () => {
    await stack?.stop()
  })
  const putRules = (rules: Record<string, unknown>[]) =>
    s3Call(stack, 'put_bucket_cors', { Bucket: stack.bucket, CORSConfiguration: { CORSRules: rules } })

  test("the stack gives the bucket the product's rule for the page's origin, ETag exposed", async () => {
    const { CORSRules } = await s3Call<{ CORSRules: Record<string, unknown>[] }>(stack, 'get_bucket_cors', {
      Bucket: stack.bucket,
    })
    const product = await productCorsRules([stack.pageOrigin])
    expect(CORSRules).toEqual(product)
    expect(product[0].ExposeHeaders).toContain('ETag')
  })

  test('without ExposeHeaders ETag the page cannot complete a multipart upload', async ({ page }, info) => {
    // the product's rule, minus ExposeHeaders
    await putRules((await productCorsRules([stack.pageOrigin])).map(({ ExposeHeaders: _, ...rule }) => rule))
    const big = makeFile('hidden-etag-20mb.bin', 20 * MB)
    const watch = new BrowserWatch(page)
    await page.goto(stack.pageUrl)
    await page.getByTestId('file-input').setInputFiles(big.path)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()

    await expect
      .poll(() => watch.corsErrors, { timeout: 30_000 })
      .toContainEqual(expect.stringContaining('Could not read the ETag header'))
    // The bytes reached the bucket and its answer had an ETag, but the browser hid it from the page.
    // (The watch records a response once its headers are read: it may come after the console error.)
    await expect.poll(() => watch.parts.some((p) => p.status === 200), { timeout: 10_000 }).toBe(true)
    const part = watch.parts.find((p) => p.status === 200)
    expect(part?.headers.etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(part?.headers['access-control-allow-origin']).toBe(stack.pageOrigin)
    expect(part?.headers['access-control-expose-headers']).toBeUndefined()
    // so the upload is never completed: the bucket keeps an open multipart upload
    const runId = await runIdOnPage(page)
    expect(watch.completed).toEqual([])
    await expect(page.getByText('All files are in the bucket')).toBeHidden()
    expect(await multipartUploads(stack, `runs/${runId}/`)).toHaveLength(1)
    await shot(page, info, '11-etag-hidden')
    await page.getByRole('button', { name: 'Cancel upload' }).click()
    await expect(page.getByText('Upload cancelled.')).toBeVisible()
  })

  test("a bucket that does not allow the page's origin refuses its uploads", async ({ page }, info) => {
    await putRules(await productCorsRules(['http://elsewhere.example']))
    const small = makeFile('refused.txt', 1_234)
    const watch = new BrowserWatch(page)
    await page.goto(stack.pageUrl)
    await page.getByTestId('file-input').setInputFiles(small.path)
    await expect(page.getByTestId('file-row')).toContainText(`sha256 ${small.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()

    await expect
      .poll(() => watch.corsErrors, { timeout: 30_000 })
      .toContainEqual(expect.stringContaining('blocked by CORS policy'))
    // the preflight failed, so the PUT itself was never sent (the API did create the run)
    expect(watch.singlePuts).toEqual([])
    const runId = await runIdOnPage(page)
    // after its retries the page says what happened
    await expect(page.getByTestId('file-row')).toContainText('The connection to the bucket was lost', {
      timeout: 45_000,
    })
    const objects = await s3Call(stack, 'list_objects_v2', { Bucket: stack.bucket, Prefix: `runs/${runId}/` })
    expect(objects.KeyCount).toBe(0)
    await shot(page, info, '12-origin-refused')
  })
})
