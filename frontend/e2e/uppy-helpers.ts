// What the Uppy specs (uppy-companion.spec.ts: Uppy 5, uppy6-companion.spec.ts: Uppy 6) share: a
// stack that requires tokens, with a fixture app bundled with its own Uppy and served on an
// origin of its own (the only one the API and the bucket allow). The bucket is the stack's moto,
// which answers a browser's presigned POST as S3 does (local/moto_s3.py).
import { expect, type APIRequestContext, type APIResponse, type Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type RequestListener, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { python, s3Call, startStack, type Stack } from './stack'
import type { UppyAppState } from './uppy-app/page'

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }

/** The fixture app in `folder` (of e2e/), bundled by Vite with the packages its imports resolve
 *  to (uppy6-app/ has node_modules of its own), into a temporary folder. */
async function buildApp(folder: string): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), `inlet-e2e-${folder}-`))
  const root = fileURLToPath(new URL(`./${folder}`, import.meta.url))
  await build({ root, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  return outDir
}

/** Serves `dir`: the app's page and its bundle. */
function serveFiles(dir: string): RequestListener {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://app').pathname
    const file = join(dir, path === '/' ? 'index.html' : normalize(path))
    try {
      const body = readFileSync(file)
      response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' })
      response.end(body)
    } catch {
      response.writeHead(404).end()
    }
  }
}

/** Listens on a free port of 127.0.0.1; the server's origin. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  if (typeof address !== 'object' || !address) throw new Error('the server has no port')
  return `http://127.0.0.1:${address.port}`
}

export interface UppyStack {
  stack: Stack
  /** Where the fixture app is served: its page is `${appOrigin}/?...`. */
  appOrigin: string
  /** The bucket as the browser reaches it. */
  bucketUrl: string
  stop: () => Promise<void>
}

/** A stack named `name` that requires tokens and allows only the origin of the fixture app in
 *  `appFolder` (of e2e/), which it serves. */
export async function startUppyStack(name: string, appFolder: string): Promise<UppyStack> {
  const appDir = await buildApp(appFolder)
  const appServer = createServer(serveFiles(appDir))
  const appOrigin = await listen(appServer)
  let stack: Stack | undefined
  const stop = async () => {
    await stack?.stop()
    await new Promise((done) => appServer.close(done))
    rmSync(appDir, { recursive: true, force: true })
  }
  try {
    stack = await startStack(name, { INLET_AUTH: 'required', INLET_CORS_ORIGINS: appOrigin })
  } catch (error) {
    await stop()
    throw error
  }
  return { stack, appOrigin, bucketUrl: stack.s3Url, stop }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

export interface DeclaredRun {
  run: { id: string }
  files: { name: string }[]
  /** The run's own Companion endpoint, relative to the API. */
  companion_endpoint: string
}

/** What an app's backend does: `POST /v1/companion/runs` of `files` with `token`; Inlet's answer. */
export function postDeclaration(
  request: APIRequestContext,
  stack: Stack,
  token: string,
  files: { name: string; size: number }[],
  label?: string,
): Promise<APIResponse> {
  const data = { label, files: files.map(({ name, size }) => ({ name, size })) }
  return request.post(`${stack.apiUrl}/v1/companion/runs`, { headers: bearer(token), data })
}

/** The same, which must succeed: the declared run. */
export async function declareRun(
  request: APIRequestContext,
  stack: Stack,
  token: string,
  files: { name: string; size: number }[],
  label?: string,
): Promise<DeclaredRun> {
  const answer = await postDeclaration(request, stack, token, files, label)
  expect(answer.status(), await answer.text()).toBe(201)
  return (await answer.json()) as DeclaredRun
}

/** The page's requests to the bucket at `bucketUrl`: `POST`, and `PUT <part number>` for parts. */
export function watchBucket(page: Page, bucketUrl: string): string[] {
  const seen: string[] = []
  page.on('request', (r) => {
    if (r.url().startsWith(bucketUrl)) seen.push(`${r.method()} ${new URL(r.url()).searchParams.get('partNumber') ?? ''}`.trim())
  })
  return seen
}

/** Runs in the stack's SQLite database, whoever owns them. */
export async function runCount(stack: Stack): Promise<number> {
  const code = 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from ingestion_runs").fetchone()[0])'
  return Number(await python(['-c', code, stack.databaseUrl.replace('sqlite:///', '')]))
}

/** Keys of the objects the bucket holds under `prefix`. */
export async function objectKeys(stack: Stack, prefix: string): Promise<string[]> {
  const listed = await s3Call<{ Contents?: { Key: string }[] }>(stack, 'list_objects_v2', { Bucket: stack.bucket, Prefix: prefix })
  return (listed.Contents ?? []).map((object) => object.Key)
}

export interface RunDetail {
  status: string
  files: { name: string; size_bytes: number; sha256: string | null; key: string }[]
}

export async function runDetail(request: APIRequestContext, stack: Stack, token: string, runId: string): Promise<RunDetail> {
  const answer = await request.get(`${stack.apiUrl}/v1/runs/${runId}`, { headers: bearer(token) })
  expect(answer.status(), await answer.text()).toBe(200)
  return (await answer.json()) as RunDetail
}

/** Waits until the API says the run is `stored`; its detail then. */
export async function storedRun(request: APIRequestContext, stack: Stack, token: string, runId: string): Promise<RunDetail> {
  let run: RunDetail | undefined
  await expect
    .poll(async () => (run = await runDetail(request, stack, token, runId)).status, { timeout: 60_000 })
    .toBe('stored')
  return run!
}

/** The ids of the runs `GET /v1/runs` lists for `token`'s owner, with their status. */
export async function listedRuns(request: APIRequestContext, stack: Stack, token: string): Promise<{ id: string; status: string }[]> {
  const answer = await request.get(`${stack.apiUrl}/v1/runs`, { headers: bearer(token) })
  expect(answer.status(), await answer.text()).toBe(200)
  return ((await answer.json()) as { items: { id: string; status: string }[] }).items
}

export const appState = (page: Page) => page.evaluate(() => window.uppyApp as UppyAppState)

/** Waits for the outcome of the file `name` (the app shows one per file, when Uppy is done with
 *  it), which must contain `text`. */
export async function expectOutcome(page: Page, name: string, text: string): Promise<void> {
  const outcome = page.getByRole('list', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: name })
  await expect(outcome).toBeVisible({ timeout: 60_000 })
  expect(await outcome.textContent()).toContain(text)
}
