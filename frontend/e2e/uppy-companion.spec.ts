import { expect, test, type Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { makeFile, MB, shot } from './helpers'
import { createToken, python, s3Call, startStack, type Stack } from './stack'
import type { UppyAppState } from './uppy-app/main'

// Issue 17: an unchanged Uppy 5 app (the real @uppy/core and @uppy/aws-s3, e2e/uppy-app/)
// pointed at Inlet's Companion routes, in Chromium. The app runs on an origin of its own, the only
// one the API and the bucket allow (the stack's own page is not used here); tokens are required,
// as in production. The browser reaches the bucket through `bucketAsS3Answers`, which gives
// moto's answer to a presigned POST the headers S3 sends with it.

const APP_ROOT = fileURLToPath(new URL('./uppy-app', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }

/** The fixture app, bundled by Vite with the packages in node_modules, into a temporary folder. */
async function buildApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'inlet-e2e-uppy-app-'))
  await build({ root: APP_ROOT, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
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

/** What S3 sends with its answer to the POST of `key` from `origin`, and moto 5.2 does not. */
async function whatS3AddsToAPost(stack: Stack, origin: string, key: string): Promise<Record<string, string>> {
  const preflight = await fetch(`${stack.s3Url}/${stack.bucket}`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
  })
  const object = await s3Call<{ ETag: string }>(stack, 'head_object', { Bucket: stack.bucket, Key: key })
  const added: Record<string, string> = { etag: object.ETag }
  for (const name of ['access-control-allow-origin', 'access-control-expose-headers']) {
    const value = preflight.headers.get(name)
    if (value) added[name] = value
  }
  return added
}

/**
 * The bucket as the browser reaches it (the stack's S3_PUBLIC_ENDPOINT_URL): moto, plus what S3
 * adds to its answer to a presigned POST and moto 5.2 leaves out: the bucket's CORS headers (moto
 * sends them with every other answer) and the ETag. Without them Chromium hides the answer from
 * the app, and Uppy, which waits for the ETag, never finishes the file. The CORS headers are the
 * bucket rule's, as moto answers a preflight from the same origin. Every other request and answer
 * passes through unchanged.
 */
function bucketAsS3Answers(stack: () => Stack): RequestListener {
  return (incoming, outgoing) => {
    const { s3Url, bucket } = stack()
    const isPost = incoming.method === 'POST' && new URL(incoming.url ?? '/', s3Url).pathname === `/${bucket}`
    const sent: Buffer[] = []
    if (isPost) incoming.on('data', (chunk: Buffer) => sent.push(chunk))
    const upstream = httpRequest(`${s3Url}${incoming.url}`, { method: incoming.method, headers: incoming.headers })
    upstream.on('error', () => outgoing.writeHead(502).end())
    upstream.on('response', (answer) => {
      const status = answer.statusCode ?? 502
      const key = /name="key"\r\n\r\n([^\r]*)\r\n/.exec(Buffer.concat(sent).toString('latin1'))?.[1]
      const added = isPost && status < 300 && key ? whatS3AddsToAPost(stack(), incoming.headers.origin ?? '', key) : {}
      Promise.resolve(added).then(
        (headers) => {
          outgoing.writeHead(status, { ...answer.headers, ...headers })
          answer.pipe(outgoing)
        },
        () => outgoing.writeHead(502).end(),
      )
    })
    incoming.pipe(upstream)
  }
}

/** Listens on a free port of 127.0.0.1; the server's origin. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  if (typeof address !== 'object' || !address) throw new Error('the server has no port')
  return `http://127.0.0.1:${address.port}`
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** Runs in the stack's SQLite database, whoever owns them. */
async function runCount(stack: Stack): Promise<number> {
  const code = 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from ingestion_runs").fetchone()[0])'
  return Number(await python(['-c', code, stack.databaseUrl.replace('sqlite:///', '')]))
}

interface RunDetail {
  status: string
  files: { name: string; size_bytes: number; sha256: string | null; key: string }[]
}

test.describe('an unchanged Uppy 5 app uploads through Inlet’s Companion routes', () => {
  let appDir = ''
  let appOrigin = ''
  let bucketUrl = ''
  let stack: Stack
  let alice = ''
  let bob = ''
  const appServer = createServer()
  const bucketServer = createServer(bucketAsS3Answers(() => stack))

  test.beforeAll(async () => {
    test.setTimeout(120_000)
    appDir = await buildApp()
    appServer.on('request', serveFiles(appDir))
    appOrigin = await listen(appServer)
    bucketUrl = await listen(bucketServer)
    stack = await startStack('uppy-companion', {
      INLET_AUTH: 'required',
      INLET_CORS_ORIGINS: appOrigin,
      S3_PUBLIC_ENDPOINT_URL: bucketUrl,
    })
    alice = await createToken(stack, 'alice')
    bob = await createToken(stack, 'bob')
  })
  test.afterAll(async () => {
    await stack?.stop()
    for (const server of [appServer, bucketServer]) await new Promise((done) => server.close(done))
    rmSync(appDir, { recursive: true, force: true })
  })

  /** Opens the app configured with the API and `token` (none: no header), and picks `paths`. */
  async function uploadWithApp(page: Page, token: string | null, paths: string[]): Promise<void> {
    const query = new URLSearchParams({ api: stack.apiUrl, ...(token ? { token } : {}) })
    await page.goto(`${appOrigin}/?${query}`)
    await expect(page.getByText(token ? 'with a token' : 'without a token')).toBeVisible()
    await page.getByLabel('Files to upload').setInputFiles(paths)
  }

  const appState = (page: Page) => page.evaluate(() => window.uppyApp as UppyAppState)

  test('a small file (presigned POST) and a 40 MB file (multipart) end stored with their sha256, listed in /v1/runs', async ({
    page,
    request,
  }, info) => {
    const small = makeFile('notes d’été 🌻.txt', 300 * 1000)
    const big = makeFile('vidéo du chantier 🎬.bin', 40 * MB)
    const bucketRequests: string[] = []
    page.on('request', (r) => {
      if (r.url().startsWith(bucketUrl)) bucketRequests.push(`${r.method()} ${new URL(r.url()).searchParams.get('partNumber') ?? ''}`.trim())
    })

    await uploadWithApp(page, alice, [small.path, big.path])
    const outcomes = page.getByRole('list', { name: 'Uploads' })
    await expect(outcomes.getByRole('listitem').filter({ hasText: small.name })).toContainText('uploaded', { timeout: 60_000 })
    await expect(outcomes.getByRole('listitem').filter({ hasText: big.name })).toContainText('uploaded', { timeout: 60_000 })
    await shot(page, info, 'uppy-01-uploaded')
    const state = await appState(page)
    expect(state.failed).toEqual({})

    // The small file went as one POST (the presigned policy), the big one in Uppy's 5 MiB parts
    expect(bucketRequests.filter((r) => r === 'POST')).toHaveLength(1)
    expect(bucketRequests.filter((r) => r.startsWith('PUT ')).sort()).toEqual(
      ['PUT 1', 'PUT 2', 'PUT 3', 'PUT 4', 'PUT 5', 'PUT 6', 'PUT 7', 'PUT 8'], // 40 MB in 5 MiB parts
    )

    const runIds: string[] = []
    for (const file of [small, big]) {
      const key = state.uploaded[file.name]
      const runId = key.split('/')[1]
      runIds.push(runId)
      let run: RunDetail | undefined
      await expect
        .poll(
          async () => {
            run = (await (await request.get(`${stack.apiUrl}/v1/runs/${runId}`, { headers: bearer(alice) })).json()) as RunDetail
            return run.status
          },
          { timeout: 60_000 },
        )
        .toBe('stored')
      expect(run?.files).toEqual([
        expect.objectContaining({ name: file.name, key, size_bytes: file.size, sha256: file.sha256 }),
      ])
    }

    const listed = (await (await request.get(`${stack.apiUrl}/v1/runs`, { headers: bearer(alice) })).json()) as {
      items: { id: string; status: string }[]
    }
    for (const runId of runIds) expect(listed.items).toContainEqual(expect.objectContaining({ id: runId, status: 'stored' }))
  })

  test('without a token, Uppy reports the 401 and no run is created', async ({ page }, info) => {
    const small = makeFile('sans jeton 🔒.txt', 1000)
    const big = makeFile('sans jeton, en parties 🔒.bin', 20 * MB)
    const refusals: string[] = []
    page.on('response', (r) => {
      if (r.url().startsWith(`${stack.apiUrl}/v1/companion/`)) refusals.push(`${r.status()} ${new URL(r.url()).pathname}`)
    })
    const toBucket: string[] = []
    page.on('request', (r) => {
      if (r.url().startsWith(bucketUrl)) toBucket.push(r.url())
    })
    const before = await runCount(stack)

    await uploadWithApp(page, null, [small.path, big.path])
    const outcomes = page.getByRole('list', { name: 'Uploads' })
    for (const file of [small, big]) {
      await expect(outcomes.getByRole('listitem').filter({ hasText: file.name })).toContainText('Authorization required')
    }
    await shot(page, info, 'uppy-02-no-token')

    const state = await appState(page)
    expect(state.uploaded).toEqual({})
    expect(state.failed).toEqual({
      [small.name]: { message: 'Authorization required', isAuthError: true },
      [big.name]: { message: 'Authorization required', isAuthError: true },
    })
    // The presigned POST's route and the multipart one both answered 401, readable through CORS
    expect(new Set(refusals)).toEqual(new Set(['401 /v1/companion/s3/params', '401 /v1/companion/s3/multipart']))
    expect(await runCount(stack)).toBe(before)
    expect(toBucket).toEqual([])
  })

  test('another owner’s upload: its parts, part URLs, completion and abort are 404 through a second token', async ({
    request,
  }) => {
    const companion = `${stack.apiUrl}/v1/companion/s3/multipart`
    const created = await request.post(companion, {
      headers: bearer(alice),
      data: { filename: 'à alice 🔐.bin', type: 'application/octet-stream', metadata: { size: String(20 * MB) } },
    })
    expect(created.status(), await created.text()).toBe(200)
    const { key, uploadId } = (await created.json()) as { key: string; uploadId: string }
    const runId = key.split('/')[1]
    const k = `key=${encodeURIComponent(key)}`

    // Bob, with Alice's key and upload id: as if they did not exist
    const asBob = { headers: bearer(bob) }
    const complete = { data: { parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }] } }
    for (const [what, answer] of [
      ['list parts', await request.get(`${companion}/${uploadId}?${k}`, asBob)],
      ['sign a part', await request.get(`${companion}/${uploadId}/1?${k}`, asBob)],
      ['complete', await request.post(`${companion}/${uploadId}/complete?${k}`, { ...asBob, ...complete })],
      ['abort', await request.delete(`${companion}/${uploadId}?${k}`, asBob)],
    ] as const) {
      expect(answer.status(), `${what}: ${await answer.text()}`).toBe(404)
      expect(await answer.json()).toMatchObject({ error: expect.any(String), code: 'not_found' })
    }
    expect((await request.get(`${stack.apiUrl}/v1/runs/${runId}`, asBob)).status()).toBe(404)

    // Alice's upload is untouched: her token lists its (no) parts, and her run is still pending
    const parts = await request.get(`${companion}/${uploadId}?${k}`, { headers: bearer(alice) })
    expect(parts.status(), await parts.text()).toBe(200)
    expect(await parts.json()).toEqual([])
    const run = await request.get(`${stack.apiUrl}/v1/runs/${runId}`, { headers: bearer(alice) })
    expect((await run.json()).status).toBe('pending')
    const aborted = await request.delete(`${companion}/${uploadId}?${k}`, { headers: bearer(alice) })
    expect(aborted.status(), await aborted.text()).toBe(200)
  })
})
