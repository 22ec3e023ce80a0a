import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { makeFile, MB, shot, type TestFile } from './helpers'
import { createToken, type Stack } from './stack'
import {
  appState,
  declareRun,
  expectOutcome,
  listedRuns,
  objectKeys,
  postDeclaration,
  runCount,
  runDetail,
  startUppyStack,
  storedRun,
  type UppyStack,
  watchBucket,
} from './uppy-helpers'

// The real Uppy 6 (@uppy/core and @uppy/aws-s3 6.3.1, e2e/uppy6-app/ with packages of its own) in
// Chromium. Its `companionEndpoint` sends no header of the app's, so no token: the app's backend
// declares a run with its token (`POST /v1/companion/runs`) and hands the browser the run's
// endpoint, whose key allows uploading that run's files and nothing else (docs/uppy.md). The stack
// requires tokens and allows only the app's origin (e2e/uppy-helpers.ts).

test.describe('an Uppy 6 app uploads into a declared run through Inlet’s Companion routes', () => {
  let uppy: UppyStack
  let stack: Stack
  let alice = ''

  test.beforeAll(async () => {
    test.setTimeout(120_000)
    uppy = await startUppyStack('uppy6-companion', 'uppy6-app')
    stack = uppy.stack
    alice = await createToken(stack, 'alice')
  })
  test.afterAll(async () => {
    await uppy?.stop()
  })

  /** What the app's backend does: declares a run of `files` with its token. The run's id and
   *  its endpoint path (relative to the API). */
  async function declareAlicesRun(request: APIRequestContext, files: TestFile[]): Promise<{ runId: string; endpointPath: string }> {
    const body = await declareRun(request, stack, alice, files, 'Uppy 6')
    expect(body.files.map((f) => f.name)).toEqual(files.map((f) => f.name))
    expect(body.companion_endpoint).toMatch(new RegExp(`^/v1/companion/runs/${body.run.id}/[^/]+$`))
    return { runId: body.run.id, endpointPath: body.companion_endpoint }
  }

  /** Opens the app with `endpoint` as its Companion endpoint and picks `files` together. */
  async function uploadWithApp(page: Page, endpoint: string, files: TestFile[]): Promise<void> {
    await page.goto(`${uppy.appOrigin}/?${new URLSearchParams({ endpoint })}`)
    await expect(page.getByText(`Companion endpoint ${endpoint}`)).toBeVisible()
    await page.getByLabel('Files to upload').setInputFiles(files.map((f) => f.path))
  }

  /** Opens the app with a backend (served here, as the app's server would be) that declares the
   *  files the user picks as a run, with its token; picks `files`. The runs it declared. */
  async function uploadThroughBackend(page: Page, request: APIRequestContext, files: TestFile[]): Promise<string[]> {
    const declared: string[] = []
    const backend = `${uppy.appOrigin}/backend/inlet-runs`
    await page.route(backend, async (route) => {
      const picked = route.request().postDataJSON() as { name: string; size: number }[]
      const answer = await postDeclaration(request, stack, alice, picked, 'Uppy 6')
      const body = await answer.text()
      if (answer.status() === 201) declared.push((JSON.parse(body) as { run: { id: string } }).run.id)
      await route.fulfill({ status: answer.status(), contentType: 'application/json', body })
    })
    await page.goto(`${uppy.appOrigin}/?${new URLSearchParams({ api: stack.apiUrl, backend })}`)
    await expect(page.getByText(`runs declared by ${backend}`)).toBeVisible()
    await page.getByLabel('Files to upload').setInputFiles(files.map((f) => f.path))
    return declared
  }

  /** What the page sent: `<status> <method> <path>` of each answer of the API, and `POST` or
   *  `PUT <part number>` of each request to the bucket. */
  function watch(page: Page): { api: string[]; bucket: string[] } {
    const api: string[] = []
    page.on('response', (r) => {
      if (r.url().startsWith(stack.apiUrl)) api.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)
    })
    return { api, bucket: watchBucket(page, uppy.bucketUrl) }
  }

  test('a small file (presigned POST) and a 40 MB file (8 parts, signed one at a time) end as the declared run, stored', async ({
    page,
    request,
  }, info) => {
    const small = makeFile('croquis de façade ✏️.txt', 300 * 1000)
    const big = makeFile('maquette 3D 🏗️.bin', 40 * MB)
    const before = await runCount(stack)
    const seen = watch(page)

    const declared = await uploadThroughBackend(page, request, [small, big])
    await expect.poll(() => declared.length).toBe(1)
    const runId = declared[0]
    for (const file of [small, big]) await expectOutcome(page, file.name, `uploaded, run ${runId}`)
    await shot(page, info, 'uppy6-01-uploaded')
    const state = await appState(page)
    expect(state.failed).toEqual({})

    expect(seen.bucket.filter((r) => r === 'POST')).toHaveLength(1)
    const parts = ['PUT 1', 'PUT 2', 'PUT 3', 'PUT 4', 'PUT 5', 'PUT 6', 'PUT 7', 'PUT 8'] // 40 MB in 5 MiB parts
    expect(seen.bucket.filter((r) => r.startsWith('PUT ')).sort()).toEqual(parts)
    // Every call went to the run's endpoint (without a token), and each part's URL was asked for
    // alone, in order: Uppy 6 never calls the batch route
    const s3 = `/v1/companion/runs/${runId}/{key}/s3`
    const calls = seen.api.map((r) =>
      r.replace(/\/multipart\/[^/]+/, '/multipart/{uploadId}').replace(/(\/v1\/companion\/runs\/[^/]+\/)[^/]+/, '$1{key}'),
    )
    const signParts = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `200 GET ${s3}/multipart/{uploadId}/${n}`)
    expect(calls.filter((r) => !signParts.includes(r)).sort()).toEqual(
      [`200 GET ${s3}/params`, `200 POST ${s3}/multipart`, `200 POST ${s3}/multipart/{uploadId}/complete`].sort(),
    )
    expect(calls.filter((r) => signParts.includes(r))).toEqual(signParts)

    const run = await storedRun(request, stack, alice, runId)
    expect(run.files).toHaveLength(2)
    for (const file of [small, big]) {
      expect(run.files).toContainEqual(
        expect.objectContaining({ name: file.name, key: state.uploaded[file.name], size_bytes: file.size, sha256: file.sha256 }),
      )
    }
    expect(await runCount(stack)).toBe(before + 1) // the declared run, no other
    expect(await listedRuns(request, stack, alice)).toContainEqual(expect.objectContaining({ id: runId, status: 'stored' }))
  })

  test('pointed at the token endpoint, Uppy 6 (which sends no token) reports the 401 and no run is created', async ({
    page,
  }, info) => {
    const small = makeFile('sans jeton 6 🔒.txt', 1000)
    const big = makeFile('sans jeton 6, en parties 🔒.bin', 20 * MB)
    const before = await runCount(stack)
    const seen = watch(page)

    await uploadWithApp(page, `${stack.apiUrl}/v1/companion`, [small, big])
    for (const file of [small, big]) await expectOutcome(page, file.name, 'Unauthorized')
    await shot(page, info, 'uppy6-02-token-endpoint')

    const state = await appState(page)
    expect(state.uploaded).toEqual({})
    expect(state.failed).toEqual({
      [small.name]: { message: 'Companion request failed: Unauthorized', isAuthError: false },
      [big.name]: { message: 'Companion request failed: Unauthorized', isAuthError: false },
    })
    expect(new Set(seen.api)).toEqual(new Set(['401 GET /v1/companion/s3/params', '401 POST /v1/companion/s3/multipart']))
    expect(seen.bucket).toEqual([])
    expect(await runCount(stack)).toBe(before)
  })

  test('a wrong key in the run endpoint: the upload fails, nothing is stored, the run stays pending', async ({
    page,
    request,
  }, info) => {
    const small = makeFile('mauvaise clé 🗝️.txt', 1000)
    const big = makeFile('mauvaise clé, en parties 🗝️.bin', 20 * MB)
    const { runId, endpointPath } = await declareAlicesRun(request, [small, big])
    const key = endpointPath.split('/').at(-1) ?? ''
    const wrongKey = `${key[0] === 'A' ? 'B' : 'A'}${key.slice(1)}`
    const wrongPath = `/v1/companion/runs/${runId}/${wrongKey}`
    const seen = watch(page)

    await uploadWithApp(page, stack.apiUrl + wrongPath, [small, big])
    for (const file of [small, big]) await expectOutcome(page, file.name, 'Not Found')
    await shot(page, info, 'uppy6-03-wrong-key')

    const state = await appState(page)
    expect(state.uploaded).toEqual({})
    expect(state.failed).toEqual({
      [small.name]: { message: 'Companion request failed: Not Found', isAuthError: false },
      [big.name]: { message: 'Companion request failed: Not Found', isAuthError: false },
    })
    expect(new Set(seen.api)).toEqual(new Set([`404 GET ${wrongPath}/s3/params`, `404 POST ${wrongPath}/s3/multipart`]))
    expect(seen.bucket).toEqual([])
    const run = await runDetail(request, stack, alice, runId)
    expect(run.status).toBe('pending')
    expect(run.files.map((f) => f.sha256)).toEqual([null, null])
    expect(await objectKeys(stack, `runs/${runId}/`)).toEqual([])
  })
})
