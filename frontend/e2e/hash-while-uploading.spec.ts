import { expect, test } from '@playwright/test'
import { BrowserWatch, expectAllInBucket, mainStack, makeFile, MB, runIdOnPage, shot } from './helpers'

// A multipart file is hashed while its parts are on the wire: the run is created at once and the
// sha256 is declared at `complete`. The time from the click to the first byte sent to the bucket
// is reported (an annotation and a log line), never asserted: a test does not time the machine.
test('a 150 MB file starts uploading at once and is stored with the sha256 declared at complete', async ({
  page,
  request,
}, info) => {
  const stack = mainStack()
  const big = makeFile('hash-while-uploading-150mb.bin', 150 * MB)
  const watch = new BrowserWatch(page)
  const completeBodies: { sha256?: string }[] = []
  let firstPut: number | null = null
  page.on('request', (r) => {
    if (r.method() === 'PUT' && r.url().startsWith(stack.s3Url)) firstPut ??= performance.now()
    if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/complete')) {
      completeBodies.push(r.postDataJSON() as { sha256?: string })
    }
  })
  await page.goto(stack.pageUrl)
  await page.getByLabel('Run type').selectOption('ds_etc')
  await page.getByTestId('file-input').setInputFiles(big.path)
  // The click as the page sees it (its event, reported through a binding, as requests are).
  let clicked: number | null = null
  await page.exposeFunction('inletClicked', () => (clicked ??= performance.now()))
  await page.evaluate(() => {
    const report = (window as unknown as { inletClicked: () => void }).inletClicked
    document.addEventListener('click', report, { capture: true, once: true })
  })
  await page.getByRole('button', { name: 'Upload 1 file' }).click()
  await expect.poll(() => firstPut, { timeout: 30_000 }).not.toBeNull()
  const millis = Math.round((firstPut ?? 0) - (clicked ?? 0))
  info.annotations.push({ type: 'click to first PUT', description: `${millis} ms` })
  console.log(`click to first PUT of a 150 MB file: ${millis} ms`)

  await expectAllInBucket(page, watch, 120_000)
  expect(completeBodies).toEqual([expect.objectContaining({ sha256: big.sha256 })])
  await shot(page, info, 'hash-while-uploading-done')

  const runId = await runIdOnPage(page)
  await expect
    .poll(async () => (await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()).status, {
      timeout: 120_000,
    })
    .toBe('stored')
  const detail = await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()
  expect(detail.files[0].sha256).toBe(big.sha256)
})
