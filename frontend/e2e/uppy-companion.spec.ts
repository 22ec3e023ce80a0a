import { expect, test, type Page } from '@playwright/test'
import { makeFile, MB, shot } from './helpers'
import { createToken, type Stack } from './stack'
import {
  appState,
  bearer,
  declareRun,
  expectOutcome,
  listedRuns,
  objectKeys,
  runCount,
  runDetail,
  startUppyStack,
  storedRun,
  type UppyStack,
  watchBucket,
} from './uppy-helpers'

// Issue 17: an unchanged Uppy 5 app (the real @uppy/core and @uppy/aws-s3, e2e/uppy-app/)
// pointed at Inlet's Companion routes, in Chromium. The app runs on an origin of its own, the only
// one the API and the bucket allow (the stack's own page is not used here); tokens are required,
// as in production (e2e/uppy-helpers.ts).

test.describe('an unchanged Uppy 5 app uploads through Inlet’s Companion routes', () => {
  let uppy: UppyStack
  let stack: Stack
  let alice = ''
  let bob = ''

  test.beforeAll(async () => {
    test.setTimeout(120_000)
    uppy = await startUppyStack('uppy-companion', 'uppy-app')
    stack = uppy.stack
    alice = await createToken(stack, 'alice')
    bob = await createToken(stack, 'bob')
  })
  test.afterAll(async () => {
    await uppy?.stop()
  })

  /** Opens the app configured with the API, `token` (none: no header) and what to upload into
   *  (none: a run per file; a run's id; `batch`: the app declares the files picked together as
   *  a run), and picks `paths` together. */
  async function uploadWithApp(page: Page, token: string | null, paths: string[], into?: string): Promise<void> {
    const target: Record<string, string> = into === 'batch' ? { batch: '1' } : into ? { run: into } : {}
    const query = new URLSearchParams({ api: stack.apiUrl, ...(token ? { token } : {}), ...target })
    await page.goto(`${uppy.appOrigin}/?${query}`)
    await expect(page.getByText(token ? 'with a token' : 'without a token')).toBeVisible()
    await page.getByLabel('Files to upload').setInputFiles(paths)
  }

  /** `<status> <path>` of each answer of the Companion routes to the page. */
  function watchCompanion(page: Page): string[] {
    const seen: string[] = []
    page.on('response', (r) => {
      if (r.url().startsWith(`${stack.apiUrl}/v1/companion/`)) seen.push(`${r.status()} ${new URL(r.url()).pathname}`)
    })
    return seen
  }

  test('a small file (presigned POST) and a 40 MB file (multipart) end stored with their sha256, listed in /v1/runs', async ({
    page,
    request,
  }, info) => {
    const small = makeFile('notes d’été 🌻.txt', 300 * 1000)
    const big = makeFile('vidéo du chantier 🎬.bin', 40 * MB)
    const bucketRequests = watchBucket(page, uppy.bucketUrl)

    await uploadWithApp(page, alice, [small.path, big.path])
    for (const file of [small, big]) await expectOutcome(page, file.name, 'uploaded')
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
      const run = await storedRun(request, stack, alice, runId)
      expect(run.files).toEqual([expect.objectContaining({ name: file.name, key, size_bytes: file.size, sha256: file.sha256 })])
    }
    const listed = await listedRuns(request, stack, alice)
    for (const runId of runIds) expect(listed).toContainEqual(expect.objectContaining({ id: runId, status: 'stored' }))
  })

  test('without a token, Uppy reports the 401 and no run is created', async ({ page }, info) => {
    const small = makeFile('sans jeton 🔒.txt', 1000)
    const big = makeFile('sans jeton, en parties 🔒.bin', 20 * MB)
    const refusals = watchCompanion(page)
    const bucketRequests = watchBucket(page, uppy.bucketUrl)
    const before = await runCount(stack)

    await uploadWithApp(page, null, [small.path, big.path])
    for (const file of [small, big]) await expectOutcome(page, file.name, 'Authorization required')
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
    expect(bucketRequests).toEqual([])
  })

  test('two files picked together, declared by the app as one run, end as that run, stored', async ({ page, request }, info) => {
    const small = makeFile('plan du lot 📐.txt', 200 * 1000)
    const big = makeFile('relevé du lot 📐.bin', 20 * MB)
    const before = await runCount(stack)
    const bucketRequests = watchBucket(page, uppy.bucketUrl)
    const declared = page.waitForResponse((r) => r.url() === `${stack.apiUrl}/v1/companion/runs`)

    await uploadWithApp(page, alice, [small.path, big.path], 'batch')
    const answer = await declared
    expect(answer.status()).toBe(201)
    const runId = ((await answer.json()) as { run: { id: string } }).run.id
    for (const file of [small, big]) await expectOutcome(page, file.name, `uploaded, run ${runId}`)
    await shot(page, info, 'uppy-03-declared-run')
    const state = await appState(page)
    expect(state.failed).toEqual({})
    expect(bucketRequests.filter((r) => r === 'POST')).toHaveLength(1)
    expect(bucketRequests.filter((r) => r.startsWith('PUT ')).sort()).toEqual(['PUT 1', 'PUT 2', 'PUT 3', 'PUT 4']) // 20 MB

    const run = await storedRun(request, stack, alice, runId)
    expect(run.files).toHaveLength(2)
    for (const file of [small, big]) {
      expect(run.files).toContainEqual(
        expect.objectContaining({ name: file.name, key: state.uploaded[file.name], size_bytes: file.size, sha256: file.sha256 }),
      )
    }
    expect(await runCount(stack)).toBe(before + 1) // the declared run, no run of its own for either file
    expect(await listedRuns(request, stack, alice)).toContainEqual(expect.objectContaining({ id: runId, status: 'stored' }))
  })

  test('another owner’s run id: Uppy reports the 404 and that run gets nothing', async ({ page, request }, info) => {
    const small = makeFile('chez bob 🔐.txt', 2000)
    const big = makeFile('chez bob, en parties 🔐.bin', 20 * MB)
    const bobsRun = (await declareRun(request, stack, bob, [small, big])).run.id
    const refusals = watchCompanion(page)
    const bucketRequests = watchBucket(page, uppy.bucketUrl)
    const before = await runCount(stack)

    await uploadWithApp(page, alice, [small.path, big.path], bobsRun)
    for (const file of [small, big]) await expectOutcome(page, file.name, '❌')
    await shot(page, info, 'uppy-04-another-owners-run')

    const state = await appState(page)
    expect(state.uploaded).toEqual({})
    // Uppy shows Inlet's message, which names the run it did not find
    for (const file of [small, big]) {
      expect(state.failed[file.name]).toEqual({ message: expect.stringContaining(bobsRun), isAuthError: false })
    }
    expect(new Set(refusals)).toEqual(new Set(['404 /v1/companion/s3/params', '404 /v1/companion/s3/multipart']))
    expect(bucketRequests).toEqual([])
    expect(await runCount(stack)).toBe(before)
    const run = await runDetail(request, stack, bob, bobsRun)
    expect(run.status).toBe('pending')
    expect(run.files.map((f) => f.sha256)).toEqual([null, null])
    expect(await objectKeys(stack, `runs/${bobsRun}/`)).toEqual([])
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
    expect((await runDetail(request, stack, alice, runId)).status).toBe('pending')
    const aborted = await request.delete(`${companion}/${uploadId}?${k}`, { headers: bearer(alice) })
    expect(aborted.status(), await aborted.text()).toBe(200)
  })
})
