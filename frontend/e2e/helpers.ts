import AxeBuilder from '@axe-core/playwright'
import { expect, type APIRequestContext, type Page, type Response, type TestInfo } from '@playwright/test'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { python, type StackInfo } from './stack'

export const MB = 1000 * 1000

export interface TestFile {
  path: string
  name: string
  size: number
  sha256: string
}

const dir = mkdtempSync(join(tmpdir(), 'inlet-e2e-files-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

/** A file of random bytes on disk (setInputFiles by path keeps its real mtime for resume). */
export function makeFile(name: string, size: number): TestFile {
  const data = randomBytes(size)
  const path = join(dir, name)
  writeFileSync(path, data)
  return { path, name, size, sha256: createHash('sha256').update(data).digest('hex') }
}

export function sha256Of(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** One member of a test archive: a file with its text, or a folder (`text` null). */
export interface ArchiveMember {
  path: string
  text: string | null
}

const MAKE_TAR_GZ = `
import io, json, sys, tarfile
out, members = sys.argv[1], json.loads(sys.argv[2])
with tarfile.open(out, "w:gz") as tar:
    for path, text in members:
        info = tarfile.TarInfo(path)
        info.mtime = 1_700_000_000
        if text is None:
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        else:
            data = text.encode()
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
`

/** A .tar.gz holding `members` in this order, names as given (`../x` too: Python's tarfile writes
 *  what it is told), built by the repo's Python. */
export async function makeTarGz(name: string, members: ArchiveMember[]): Promise<TestFile> {
  const path = join(dir, name)
  await python(['-c', MAKE_TAR_GZ, path, JSON.stringify(members.map((m) => [m.path, m.text]))])
  const data = readFileSync(path)
  return { path, name, size: data.length, sha256: sha256Of(data) }
}

/** Uploads `file` as a new run the way any API client does (POST /v1/uploads, then the PUT with
 *  its signed headers); the run's id. */
export async function uploadThroughApi(
  request: APIRequestContext,
  stack: Pick<StackInfo, 'apiUrl'>,
  file: TestFile,
  label: string,
): Promise<string> {
  const created = await request.post(`${stack.apiUrl}/v1/uploads`, {
    data: {
      type: 'app_bundle',
      label,
      files: [{ name: file.name, size: file.size, sha256: file.sha256, content_type: 'application/gzip' }],
    },
  })
  expect(created.status(), await created.text()).toBe(201)
  const body = (await created.json()) as { run: { id: string }; files: { upload: { method: string; url: string; headers: Record<string, string> } }[] }
  const { upload } = body.files[0]
  expect(upload.method).toBe('PUT')
  const put = await request.put(upload.url, { headers: upload.headers, data: readFileSync(file.path) })
  expect(put.status(), await put.text()).toBe(200)
  return body.run.id
}

/** Waits until the API says the run is `stored`. */
export async function expectStored(request: APIRequestContext, stack: Pick<StackInfo, 'apiUrl'>, runId: string): Promise<void> {
  await expect
    .poll(async () => ((await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`)).json()) as { status: string }).status, {
      timeout: 60_000,
    })
    .toBe('stored')
}

/** axe-core on the page as it is now (every rule axe runs by default): no violation. */
export async function expectNoAxeViolations(page: Page, info: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze()
  await info.attach(`axe-${name}`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' })
  const found = results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(found, `axe-core found accessibility violations on ${name}`).toEqual([])
}

/** axe-core and a screenshot of the page as it is, in the light scheme and then the dark one
 *  (the page follows the system's); the page is left light. */
export async function expectAccessibleInBothSchemes(page: Page, info: TestInfo, name: string, shotName: string): Promise<void> {
  await expectNoAxeViolations(page, info, name)
  await shot(page, info, shotName)
  await page.emulateMedia({ colorScheme: 'dark' })
  await expectNoAxeViolations(page, info, `${name}-dark`)
  await shot(page, info, `${shotName}-dark`)
  await page.emulateMedia({ colorScheme: 'light' })
}

/** The stack the global setup started (e2e/global-setup.ts). */
export function mainStack(): StackInfo {
  const value = process.env.INLET_E2E_STACK
  if (!value) throw new Error('INLET_E2E_STACK is not set: the global setup did not start the stack')
  return JSON.parse(value) as StackInfo
}

export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`)
  await page.screenshot({ path, fullPage: true })
  await info.attach(name, { path, contentType: 'image/png' })
}

/** The run id the upload page links to once the run exists. */
export async function runIdOnPage(page: Page): Promise<string> {
  const link = page.locator('a[href^="#/runs/"]').first()
  await expect(link).toBeVisible()
  const href = (await link.getAttribute('href')) ?? ''
  return decodeURIComponent(href.replace('#/runs/', ''))
}

/**
 * Starts uploading `file` (40 MB: 3 parts of 16 MiB) on the page at `pageUrl` with part 3 held,
 * so the run stays pending with parts 1 and 2 in the bucket, then reloads the page: the run is
 * stranded. Its id.
 */
export async function strandUpload(page: Page, pageUrl: string, file: TestFile, label: string): Promise<string> {
  await page.goto(pageUrl)
  const holdPart3 = (url: URL) => partNumberOf(url.href) === 3
  await page.route(holdPart3, () => undefined)
  const stored = new Set<number>()
  page.on('response', (r) => {
    const n = partNumberOf(r.url())
    if (n && r.status() === 200) stored.add(n)
  })
  await page.getByLabel('Label (optional)').fill(label)
  await page.getByTestId('file-input').setInputFiles(file.path)
  await page.getByRole('button', { name: 'Upload 1 file' }).click()
  await expect.poll(() => [...stored].sort(), { timeout: 60_000 }).toEqual([1, 2])
  const runId = await runIdOnPage(page)
  page.once('dialog', (dialog) => void dialog.accept()) // "leave the page?" while uploading
  await page.reload() // the held part 3 dies with the page
  await page.unroute(holdPart3)
  return runId
}

/** Requests for multipart parts carry partNumber and uploadId in the presigned URL. */
export function partNumberOf(url: string): number | null {
  const params = new URL(url).searchParams
  if (!params.has('uploadId')) return null
  const n = Number(params.get('partNumber'))
  return Number.isInteger(n) && n > 0 ? n : null
}

export interface SentPart {
  partNumber: number
  status: number
  /** The response's headers as the network saw them (CORS does not hide any of them here). */
  headers: Record<string, string>
  /** The Origin the browser sent. */
  origin: string | null
}

/**
 * What the browser did with the bucket and the API: every PUT to the bucket (parts and single
 * PUTs) with its answer's headers, the part lists the page sent to `.../complete` (the ETags it
 * could read), and the console errors about CORS (Chromium's "blocked by CORS policy", Uppy's
 * "Could not read the ETag header") or about the page's Content-Security-Policy (Chromium's
 * "violates the following Content Security Policy directive": a call the policy forgot).
 */
export class BrowserWatch {
  readonly parts: SentPart[] = []
  readonly singlePuts: Omit<SentPart, 'partNumber'>[] = []
  readonly completed: { part_number: number; etag: string }[][] = []
  readonly corsErrors: string[] = []

  constructor(page: Page) {
    page.on('response', (r) => void this.#onResponse(r))
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/complete')) {
        this.completed.push((r.postDataJSON() as { parts: { part_number: number; etag: string }[] }).parts)
      }
    })
    page.on('console', (m) => {
      if (m.type() === 'error' && /CORS|ETag|Content Security Policy/i.test(m.text())) this.corsErrors.push(m.text())
    })
  }

  async #onResponse(r: Response): Promise<void> {
    if (r.request().method() !== 'PUT') return
    const sent = { status: r.status(), headers: await r.allHeaders(), origin: await r.request().headerValue('origin') }
    const n = partNumberOf(r.url())
    if (n) this.parts.push({ partNumber: n, ...sent })
    else this.singlePuts.push(sent)
  }
}

/**
 * Waits for "All files are in the bucket", failing at once (not at the timeout) with the
 * browser's words when it reported a CORS or CSP problem: a bucket that refuses the page's origin
 * or hides the ETag header, or a policy that forbids the bucket, leaves the page uploading for ever.
 */
export async function expectAllInBucket(page: Page, watch: BrowserWatch, timeout = 60_000): Promise<void> {
  const done = page.getByText('All files are in the bucket')
  const deadline = Date.now() + timeout
  while (!(await done.isVisible())) {
    expect(watch.corsErrors, 'the browser reported CORS or CSP problems with the bucket or the API').toEqual([])
    if (Date.now() > deadline) await expect(done).toBeVisible({ timeout: 1 }) // fails, with the page's state
    await page.waitForTimeout(200)
  }
}

/** The upload bucket's CORS rules as `chalicelib.bucket.upload_cors_rules` makes them. */
export async function productCorsRules(origins: string[]): Promise<Record<string, unknown>[]> {
  const code = 'import json, sys; from chalicelib.bucket import upload_cors_rules; print(json.dumps(upload_cors_rules(json.loads(sys.argv[1]))))'
  return JSON.parse(await python(['-c', code, JSON.stringify(origins)])) as Record<string, unknown>[]
}
