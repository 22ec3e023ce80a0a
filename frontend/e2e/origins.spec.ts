import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { shot } from './helpers'
import { createToken, presignGet, s3Call, startStack, type Stack } from './stack'

// Issue 13: the page keeps the API token in its origin's localStorage, and the upload bucket
// serves whatever people upload, HTML included. When make dev served the page from the bucket's
// origin, an HTML file one owner uploaded read another owner's token and listed their runs. Now
// the page has an origin of its own (local/web.py), and uploads are stored as attachments
// (chalicelib/storage.py): opened from the bucket, an uploaded page downloads instead of running,
// and were it rendered anyway, it would run on the bucket's origin, where there is no token.
// Tokens are required here, as in production (SQLite: the owners, not the database, matter).

const TOKEN_KEY = 'inlet.apiToken' // src/lib/token.ts
const EVIL_MARK = 'EVIL '

/** What Bob uploads: a page whose script takes whatever token it finds and lists the runs. */
function evilPage(apiUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>evil: running</title></head><body>
<script>
(async () => {
  const report = { origin: location.origin, storage: {}, token: null, runs: null }
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)
      report.storage[key] = localStorage.getItem(key)
    }
    report.token = localStorage.getItem(${JSON.stringify(TOKEN_KEY)})
  } catch (e) {
    report.storage = 'error: ' + e
  }
  try {
    const headers = report.token ? { Authorization: 'Bearer ' + report.token } : {}
    const answer = await fetch(${JSON.stringify(`${apiUrl}/v1/runs`)}, { headers })
    report.runs = answer.status + ' ' + (await answer.text())
  } catch (e) {
    report.runs = 'error: ' + e
  }
  console.log(${JSON.stringify(EVIL_MARK)} + JSON.stringify(report))
  document.title = 'evil: done'
})()
</script>
</body></html>
`
}

interface EvilReport {
  origin: string
  storage: Record<string, string> | string
  token: string | null
  runs: string | null
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** Saves a token in the page, as a person does (postgres-auth.spec.ts). */
async function saveToken(page: Page, stack: Stack, token: string): Promise<void> {
  await page.goto(stack.pageUrl)
  const auth = page.getByRole('form', { name: 'Authentication' })
  await auth.getByLabel('API token').fill(token)
  await auth.getByRole('button', { name: 'Save' }).click()
  await expect(auth).toContainText('Token saved in this browser')
}

/** Bob's upload, as any client makes it: POST /v1/uploads, then a PUT with `upload.headers`. */
async function uploadAs(
  request: APIRequestContext,
  stack: Stack,
  token: string,
  name: string,
  body: string,
  contentType: string,
): Promise<{ key: string; headers: Record<string, string> }> {
  const created = await request.post(`${stack.apiUrl}/v1/uploads`, {
    headers: bearer(token),
    data: { type: 'app_bundle', label: `${name} by bob`, files: [{ name, size: Buffer.byteLength(body), content_type: contentType }] },
  })
  expect(created.status(), await created.text()).toBe(201)
  const file = (await created.json()).files[0] as {
    key: string
    upload: { method: string; url: string; headers: Record<string, string> }
  }
  expect(file.upload.method).toBe('PUT')
  const put = await request.put(file.upload.url, { headers: file.upload.headers, data: Buffer.from(body) })
  expect(put.status(), await put.text()).toBe(200)
  return { key: file.key, headers: file.upload.headers }
}

test.describe('uploaded files never run where the page keeps its token', () => {
  let stack: Stack
  let alice = ''
  let bob = ''
  let aliceRun = ''

  test.beforeAll(async () => {
    test.setTimeout(120_000)
    stack = await startStack('origins', { INLET_AUTH: 'required' })
    alice = await createToken(stack, 'alice')
    bob = await createToken(stack, 'bob')
    // a run of Alice's (pending is enough: her token lists it)
    const created = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { ...bearer(alice), 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'app_bundle', label: 'alice: private', files: [{ name: 'alice.txt', size: 10 }] }),
    })
    expect(created.status, await created.clone().text()).toBe(201)
    aliceRun = ((await created.json()) as { run: { id: string } }).run.id
  })
  test.afterAll(async () => {
    await stack?.stop()
  })

  test('make dev serves the page on an origin of its own, with a policy, and nothing from the bucket', async ({
    page,
    request,
  }) => {
    const pageOrigin = new URL(stack.pageUrl).origin
    expect(pageOrigin).toBe(stack.pageOrigin)
    expect(pageOrigin).not.toBe(new URL(stack.s3Url).origin)
    expect(pageOrigin).not.toBe(new URL(stack.apiUrl).origin)

    const index = await request.get(stack.pageUrl)
    expect(index.status()).toBe(200)
    const headers = index.headers()
    expect(headers['content-type']).toBe('text/html; charset=utf-8')
    expect(headers['x-content-type-options']).toBe('nosniff')
    expect(headers['content-security-policy']).toContain(`connect-src 'self' ${stack.apiUrl} ${stack.s3Url};`)
    expect(headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval';")
    const config = await (await request.get(`${stack.pageOrigin}/config.json`)).json()
    expect(config).toMatchObject({ apiUrl: stack.apiUrl, authRequired: true })

    // The emulator holds the upload bucket only: the page is not published into it any more.
    const { Buckets } = await s3Call<{ Buckets: { Name: string }[] }>(stack, 'list_buckets', {})
    expect(Buckets.map((b) => b.Name)).toEqual([stack.bucket])
    const fromBucket = await request.get(`${stack.s3Url}/inlet-web/index.html`)
    expect(fromBucket.status()).toBe(404)

    // The page runs under its policy: no violation while it loads and saves a token.
    const violations: string[] = []
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
    })
    await saveToken(page, stack, alice)
    await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()
    expect(violations).toEqual([])
  })

  test("an HTML file Bob uploaded, opened from the bucket, cannot read Alice's token nor list her runs", async ({
    page,
    context,
    request,
  }, info) => {
    // Alice's token, saved in the page in this browser; her run, which her token lists
    await saveToken(page, stack, alice)
    expect(await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY)).toBe(alice)
    const hers = await (await request.get(`${stack.apiUrl}/v1/runs`, { headers: bearer(alice) })).text()
    expect(hers).toContain(aliceRun)
    await shot(page, info, '16-alice-token-saved')

    // Bob uploads evil.html as text/html; the upload carries the signed Content-Disposition
    const html = evilPage(stack.apiUrl)
    const evil = await uploadAs(request, stack, bob, 'evil.html', html, 'text/html')
    expect(evil.headers['Content-Disposition']).toBe('attachment')
    const stored = await s3Call<{ ContentDisposition?: string; ContentType?: string }>(stack, 'head_object', {
      Bucket: stack.bucket,
      Key: evil.key,
    })
    expect(stored.ContentDisposition).toBe('attachment')

    // Anyone with a link to the object (a presigned GET) gets an attachment
    const url = await presignGet(stack, evil.key)
    expect(new URL(url).origin).toBe(new URL(stack.s3Url).origin)
    const got = await request.get(url)
    expect(got.status()).toBe(200)
    expect(got.headers()['content-disposition']).toBe('attachment')
    expect(await got.text()).toBe(html)

    const reports: string[] = []
    context.on('console', (m) => {
      if (m.text().startsWith(EVIL_MARK)) reports.push(m.text().slice(EVIL_MARK.length))
    })

    // Opened in Alice's browser, it downloads: it is never rendered, its script never runs.
    const tab = await context.newPage()
    const download = tab.waitForEvent('download')
    const navigation = await tab.goto(url).then(
      () => null,
      (error: Error) => error.message,
    )
    expect(navigation).toMatch(/Download is starting|net::ERR_ABORTED/)
    expect((await download).suggestedFilename()).toBe('evil.html')
    await tab.waitForTimeout(1_500)
    expect(await tab.title()).not.toContain('evil')
    expect(reports).toEqual([])
    await tab.close()

    // Were it rendered anyway (an object stored before uploads were attachments, or a download
    // link that asked for inline), it runs on the bucket's origin, not the page's: no token
    // there, and the API does not answer that origin.
    const inline = await presignGet(stack, evil.key, { ResponseContentDisposition: 'inline' })
    const rendered = await context.newPage()
    await rendered.goto(inline)
    await expect(rendered).toHaveTitle('evil: done')
    await expect.poll(() => reports.length).toBe(1)
    const report = JSON.parse(reports[0]) as EvilReport
    await shot(rendered, info, '17-evil-on-the-bucket-origin')
    expect(report.origin).toBe(new URL(stack.s3Url).origin)
    expect(report.origin).not.toBe(stack.pageOrigin)
    expect(report.token).toBeNull()
    expect(report.storage).toEqual({})
    expect(report.runs).not.toMatch(/^200 /)
    expect(report.runs).not.toContain(aliceRun)
    expect(report.runs).not.toContain('alice: private')

    // Alice's token still works, and still sits where the page keeps it
    expect(await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY)).toBe(alice)
    const again = await request.get(`${stack.apiUrl}/v1/runs`, { headers: bearer(alice) })
    expect(again.status()).toBe(200)
    expect(await again.text()).toContain(aliceRun)
  })
})
