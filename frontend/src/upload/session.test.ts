import { describe, expect, it, vi } from 'vitest'
import { Network } from '../lib/network'
import type { CreateUploadRequest, RunStatus, UploadFileOut, UploadRules } from '../lib/types'
import {
  GiB,
  MiB,
  changeOnDisk,
  fakeApi,
  fakeHasher,
  fakeS3,
  flush,
  makeFile,
  makeLimits,
  makeRules,
  makeRun,
  makeRunDetail,
  quietLogger,
  sha256Hex,
  sizedFile,
} from '../test/fakes'
import { contentTypeOf } from './entries'
import type { Hasher } from './hasher'
import { OLD_RESUME_KEY, ResumeStore } from './resume'
import { type SessionDeps, UploadSession } from './session'
import type { UploadPartBytes } from './uppy'

const API_URL = 'http://api.test'
const runIdOf = (n: number) => `${String(n).padStart(8, '0')}-2222-3333-4444-555555555555`
const RUN_ID = runIdOf(1)
const THRESHOLD = 6 * MiB
const expires = () => new Date(Date.now() + 900_000).toISOString()
const form = { type: 'app_bundle', label: '', notes: '' }

type Handlers = Parameters<typeof fakeApi>[0]

/** A fake API that plans uploads like the real one, with a multipart threshold of 6 MiB, a new
 *  run id for each run, and rules it answers only once `rulesGate` opens (at once by default). */
function plannerApi(options: { rules?: Partial<UploadRules>; rulesGate?: Promise<void>; refuse?: (request: CreateUploadRequest) => { status: number; body: unknown } | null } = {}) {
  const partSize = 5 * MiB
  const created: CreateUploadRequest[] = []
  const statuses = new Map<string, RunStatus>()
  const handlers: Handlers = {
    'GET /v1/limits': async () => {
      await options.rulesGate
      return { body: makeLimits(makeRules({ multipart_threshold: THRESHOLD, ...options.rules })) }
    },
    'POST /v1/uploads': ({ body }) => {
      const request = body as CreateUploadRequest
      const refused = options.refuse?.(request)
      if (refused) return refused
      created.push(request)
      const runId = runIdOf(created.length)
      statuses.set(runId, 'pending')
      const files: UploadFileOut[] = request.files.map((f, i) => {
        const id = `${runId.slice(0, 8)}-file-${i + 1}`
        const base = {
          id,
          run_id: runId,
          name: f.name,
          key: `runs/${runId}/${id}/${f.name}`,
          size_bytes: f.size,
          content_type: f.content_type,
          status: 'pending' as const,
          sha256: null,
          declared_sha256: f.sha256 ?? null,
          etag: null,
          version_id: null,
          stored_at: null,
          error: null,
        }
        if (f.size <= THRESHOLD) {
          return {
            ...base,
            upload: { method: 'PUT', url: `http://s3.test/b/${id}`, headers: { 'Content-Type': f.content_type, 'If-None-Match': '*' }, expires_at: expires() },
          }
        }
        return {
          ...base,
          upload: {
            method: 'multipart',
            upload_id: `up-${id}`,
            part_size: partSize,
            part_count: Math.ceil(f.size / partSize),
            parts: [{ part_number: 1, url: `http://s3.test/b/${id}?uploadId=up&partNumber=1`, expires_at: expires() }],
          },
        }
      })
      return { status: 201, body: { run: makeRun({ id: runId, file_count: files.length }), files } }
    },
    'POST /v1/uploads/:run/files/:file/parts': ({ body, path }) => {
      const fileId = path.split('/')[5]
      const numbers = (body as { part_numbers: number[] }).part_numbers
      return {
        body: {
          parts: numbers.map((n) => ({ part_number: n, url: `http://s3.test/b/${fileId}?uploadId=up&partNumber=${n}`, expires_at: expires() })),
        },
      }
    },
    'GET /v1/uploads/:run/files/:file/parts': () => ({ body: { parts: [{ part_number: 1, etag: '"stored-1"', size: 5 * MiB }] } }),
    'POST /v1/uploads/:run/files/:file/complete': () => ({ body: {} }),
    'DELETE /v1/uploads/:run': ({ path }) => {
      const runId = path.split('/')[3]
      statuses.set(runId, 'cancelled')
      return { body: makeRun({ id: runId, status: 'cancelled' }) }
    },
    'GET /v1/runs/:run': ({ path }) => {
      const runId = path.split('/')[3]
      const status = statuses.get(runId)
      if (!status) return { status: 404, body: { error: { code: 'not_found', message: `run ${runId} not found` } } }
      return { body: makeRunDetail({ id: runId, status }) }
    },
  }
  return { ...fakeApi(handlers), handlers, created, statuses }
}

type Planner = ReturnType<typeof plannerApi>

function session(api: Planner, options: { fail?: Parameters<typeof fakeS3>[0]; send?: UploadPartBytes; hasher?: Hasher } & Partial<SessionDeps> = {}) {
  const s3 = fakeS3(options.fail)
  const store = new ResumeStore()
  const network = options.network ?? new Network(null)
  const s = new UploadSession({
    api: api.api,
    hasher: options.hasher ?? fakeHasher(),
    store,
    network,
    uploaderOptions: { uploadPartBytes: options.send ?? s3.send, retryDelays: [0], logger: quietLogger },
    throttleMs: 0,
    rulesRetryMs: 60_000,
    ...options,
  })
  return { s, s3, store, network }
}

/** A fake S3 that holds every request until `release()` (a request aborted meanwhile fails, as an
 *  XMLHttpRequest would). */
function heldS3() {
  const s3 = fakeS3()
  const waiting: (() => void)[] = []
  const aborted: string[] = []
  let open = false
  const send: UploadPartBytes = (options) =>
    new Promise((resolve, reject) => {
      const stop = () => {
        aborted.push(options.signature.url)
        reject(new DOMException('aborted', 'AbortError'))
      }
      options.signal?.addEventListener('abort', stop, { once: true })
      const go = () => {
        options.signal?.removeEventListener('abort', stop)
        s3.send(options).then(resolve, reject)
      }
      if (open) go()
      else waiting.push(go)
    })
  return {
    send,
    sent: s3.sent,
    aborted,
    waiting: () => waiting.length,
    release: () => {
      open = true
      for (const go of waiting.splice(0)) go()
    },
  }
}

/** A failed upload of `files`, left for a later session to find among the unfinished runs. */
async function strandedRun(api: Planner, files: File[]) {
  const first = session(api, { fail: () => 400 })
  first.s.addFiles(files)
  await first.s.start(form)
  expect(first.s.getSnapshot().phase).toBe('failed')
  first.s.destroy()
  return first.s.getSnapshot().run!.id
}

const names = (s: UploadSession) => s.getSnapshot().entries.map((e) => e.name)

describe('UploadSession', () => {
  it('hashes the files that go in one PUT, creates the run, uploads everything, and is done', async () => {
    const api = plannerApi()
    const { s, s3, store } = session(api)
    const big = makeFile('big.bin', 12 * MiB)
    const small = makeFile('notes.txt', 100, undefined, 'text/plain')
    s.addFiles([big, small])
    await flush()
    // the large file is hashed while it uploads
    expect(s.getSnapshot().entries.map((e) => e.hashState)).toEqual(['waiting', 'done'])

    await s.start({ type: 'ds_etc', label: '  prod  ', notes: '' })
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('done')
    expect(snap.run?.id).toBe(RUN_ID)
    expect(snap.overall.fraction).toBe(1)
    expect(snap.entries.map((e) => e.status)).toEqual(['uploaded', 'uploaded'])
    expect(snap.entries[0].method).toBe('multipart')
    expect(snap.entries[0].partCount).toBe(3)

    const hexOf = async (file: File) => sha256Hex(new Uint8Array(await file.arrayBuffer()))
    expect(api.created).toEqual([
      {
        type: 'ds_etc',
        label: 'prod',
        notes: null,
        files: [
          { name: 'big.bin', size: 12 * MiB, content_type: 'application/octet-stream', sha256: null },
          { name: 'notes.txt', size: 100, content_type: 'text/plain', sha256: await hexOf(small) },
        ],
      },
    ])
    const completes = api.calls.filter((c) => c.path.endsWith('/complete')).map((c) => (c.body as { sha256?: string }).sha256)
    expect(completes).toEqual([await hexOf(big)])
    expect(s3.sent).toHaveLength(4) // 3 parts + 1 PUT
    expect(store.list(API_URL)).toEqual([]) // nothing left to resume
    expect(snap.unfinished).toEqual([])
  })

  it('records the name of a file chosen in a folder as its path', async () => {
    const api = plannerApi()
    const { s } = session(api)
    s.addFiles([{ file: makeFile('a 🎉.txt', 3), path: 'docs/2026/a 🎉.txt' }])
    await s.start(form)
    expect(api.created[0].files[0].name).toBe('docs/2026/a 🎉.txt')
    expect(s.getSnapshot().phase).toBe('done')
  })

  it('uploads two files that differ only by their folder as two files', async () => {
    const api = plannerApi()
    const { s, s3 } = session(api)
    s.addFiles([
      { file: makeFile('a.txt', 3), path: 'one/a.txt' },
      { file: makeFile('a.txt', 3), path: 'two/a.txt' },
    ])
    await s.start(form)
    expect(s.getSnapshot().phase).toBe('done')
    expect(api.created[0].files.map((f) => f.name)).toEqual(['one/a.txt', 'two/a.txt'])
    expect(s3.sent).toHaveLength(2)
  })

  it('refuses to start with no files', async () => {
    const { s } = session(plannerApi())
    await s.start(form)
    expect(s.getSnapshot().error?.message).toMatch(/at least one file/)
  })

  it('does not add the same file twice, and removes files before the upload', () => {
    const { s } = session(plannerApi())
    const f = makeFile('a.txt', 10)
    s.addFiles([f, f])
    s.addFiles([f, { file: f, path: 'docs/a.txt' }])
    expect(names(s)).toEqual(['a.txt', 'docs/a.txt'])
    s.removeFile(s.getSnapshot().entries[0].id)
    expect(names(s)).toEqual(['docs/a.txt'])
    s.addFiles([f])
    expect(names(s)).toEqual(['docs/a.txt', 'a.txt'])
  })

  describe('limits first', () => {
    it('refuses a file over the size limit at once, without hashing it, in human sizes', async () => {
      const hasher = fakeHasher()
      const api = plannerApi({ rules: { max_file_size: 5 * GiB } })
      const { s } = session(api, { hasher })
      s.addFiles([sizedFile('disk image.img', 51 * GiB), makeFile('ok.txt', 10)])
      await flush()
      const [huge, ok] = s.getSnapshot().entries
      expect(huge.problem).toBe('54.8 GB is over the 5.37 GB limit per file.')
      expect(huge.hashState).toBe('waiting')
      expect(ok.problem).toBeNull()
      expect(hasher.hashed).toEqual(['ok.txt'])

      await s.start(form) // refused while a file has a problem
      expect(s.getSnapshot().phase).toBe('idle')
      expect(api.created).toEqual([])

      s.removeRefused()
      expect(names(s)).toEqual(['ok.txt'])
      await s.start(form)
      expect(s.getSnapshot().phase).toBe('done')
    })

    it('refuses names the server refuses, before anything else', async () => {
      const hasher = fakeHasher()
      const { s } = session(plannerApi(), { hasher })
      s.addFiles([makeFile('report\u202Etxt.exe', 10), makeFile('👩‍👩‍👧 family.jpg', 10)])
      await flush()
      expect(s.getSnapshot().entries.map((e) => e.problem)).toEqual([expect.stringMatching(/U\+202E/), null])
      expect(hasher.hashed).toEqual(['👩‍👩‍👧 family.jpg'])
    })

    it('says how many files to remove when there are more than one run holds, and hashes none until then', async () => {
      const api = plannerApi()
      const hasher = fakeHasher()
      const { s } = session(api, { hasher })
      const files = Array.from({ length: 101 }, (_, i) => makeFile(`f${i}.txt`, 1))
      s.addFiles(files)
      await flush()
      expect(s.getSnapshot().problems).toEqual(['101 files chosen; one run holds at most 100. Remove 1 file.'])
      expect(hasher.hashed).toEqual([])
      await s.start(form)
      expect(api.created).toEqual([])
      s.removeFile(s.getSnapshot().entries[100].id)
      expect(s.getSnapshot().problems).toEqual([])
      await flush()
      expect(hasher.hashed).toHaveLength(100)
      await s.start(form)
      expect(s.getSnapshot().phase).toBe('done')
      expect(api.created[0].files).toHaveLength(100)
    })

    it('holds chosen files until the rules are known, then checks and hashes them', async () => {
      let open: () => void = () => undefined
      const rulesGate = new Promise<void>((r) => (open = r))
      const hasher = fakeHasher()
      const api = plannerApi({ rules: { max_file_size: 1000 }, rulesGate })
      const { s } = session(api, { hasher })
      s.addFiles([makeFile('small.txt', 10), makeFile('large.bin', 2000)])
      await flush()
      expect(s.getSnapshot().rules).toBeNull()
      expect(s.getSnapshot().entries.map((e) => e.hashState)).toEqual(['waiting', 'waiting'])
      expect(hasher.hashed).toEqual([])

      // Upload pressed meanwhile: it waits for them too
      const started = s.start(form)
      await flush()
      expect(s.getSnapshot().phase).toBe('hashing')
      open()
      await started
      await flush()
      expect(s.getSnapshot().rules?.max_file_size).toBe(1000)
      expect(s.getSnapshot().phase).toBe('idle')
      expect(s.getSnapshot().entries.map((e) => e.problem)).toEqual([null, '2.00 KB is over the 1.00 KB limit per file.'])
      expect(hasher.hashed).toEqual(['small.txt'])
      expect(api.created).toEqual([])
    })

    it('without the rules (the API unreachable) goes on without them, and checks again once they come', async () => {
      let reachable = false
      const api = plannerApi({ rules: { max_file_size: 1000 } })
      const { api: flaky } = fakeApi({
        ...api.handlers,
        'GET /v1/limits': (call) => {
          if (!reachable) throw new TypeError('Failed to fetch')
          return api.handlers['GET /v1/limits'](call)
        },
      })
      const hasher = fakeHasher()
      const network = new Network(null)
      const s = new UploadSession({ api: flaky, hasher, store: new ResumeStore(), network, throttleMs: 0, rulesRetryMs: 60_000 })
      s.addFiles([makeFile('large.bin', 2000)])
      await flush()
      expect(s.getSnapshot().rules).toBeNull()
      expect(s.getSnapshot().entries[0]).toMatchObject({ hashState: 'done', problem: null })

      reachable = true
      network.setOnline(false)
      network.setOnline(true) // the browser is back: ask again
      await flush()
      expect(s.getSnapshot().rules?.max_file_size).toBe(1000)
      expect(s.getSnapshot().entries[0].problem).toBe('2.00 KB is over the 1.00 KB limit per file.')
    })

    it('takes the multipart threshold from the rules: a file under it is hashed before, one over it while it uploads', async () => {
      const hasher = fakeHasher()
      const { s } = session(plannerApi({ rules: { multipart_threshold: 2 * MiB } }), { hasher })
      s.addFiles([makeFile('a.bin', 2 * MiB), makeFile('b.bin', 2 * MiB + 1)])
      await flush()
      expect(s.getSnapshot().entries.map((e) => e.hashState)).toEqual(['done', 'waiting'])
      expect(s.getSnapshot().hashing).toMatchObject({ total: 2 * MiB, done: 2 * MiB, fraction: 1 })
    })

    it('adds 1,000 files at once, and again, without checking each against all the others', async () => {
      const hasher: Hasher = { hash: () => new Promise(() => undefined) } // hashing never ends: only adding is measured
      const { s } = session(plannerApi({ rules: { max_files_per_run: 10_000 } }), { hasher })
      const files = Array.from({ length: 1000 }, (_, i) => makeFile(`file ${i} 📄.txt`, 1 + (i % 7)))
      s.addFiles(files)
      s.addFiles(files) // the same again: nothing added
      s.addFiles(Array.from({ length: 1000 }, (_, i) => makeFile(`more ${i}.txt`, 1)))
      expect(s.getSnapshot().entries).toHaveLength(2000)
      expect(new Set(s.getSnapshot().entries.map((e) => e.id)).size).toBe(2000)
    })
  })

  describe('the API refusing files', () => {
    it("shows each refusal next to its file, in words, and the banner once", async () => {
      const api = plannerApi({
        refuse: () => ({
          status: 422,
          body: {
            error: {
              code: 'validation_error',
              message: `invalid request: files[3].name: Value error, name contains U+E0001 LANGUAGE TAG`,
              details: [{ field: `files[3].name`, message: `Value error, name contains U+E0001 LANGUAGE TAG` }],
            },
          },
        }),
      })
      const { s } = session(api)
      s.addFiles([0, 1, 2, 3].map((i) => makeFile(`f${i}.txt`, 5)))
      await s.start(form)
      const snap = s.getSnapshot()
      expect(snap.phase).toBe('idle')
      expect(snap.entries.map((e) => e.problem)).toEqual([
        null,
        null,
        null,
        'The API refused this file: the name contains U+E0001 LANGUAGE TAG.',
      ])
      expect(snap.error).toEqual({ title: 'The API refused this upload', message: '1 file was refused: see the list.', details: [] })

      s.removeRefused()
      expect(names(s)).toEqual(['f0.txt', 'f1.txt', 'f2.txt'])
      expect(s.getSnapshot().error).toBeNull()
    })

    it('maps a size refusal (413) to its file too', async () => {
      const api = plannerApi({
        refuse: (request) => ({
          status: 413,
          body: {
            error: {
              code: 'too_large',
              message: `file '${request.files[1].name}' is ${request.files[1].size} bytes; the limit is 10 bytes`,
              details: [{ field: 'files[1].size', message: 'larger than the maximum file size' }],
            },
          },
        }),
      })
      const { s } = session(api)
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 50)])
      await s.start(form)
      expect(s.getSnapshot().entries[1].problem).toBe('The API refused this file: the size is larger than the maximum file size.')
      expect(s.getSnapshot().error?.message).toBe('1 file was refused: see the list.')
    })

    it("shows any other refusal in the banner, in the API's words", async () => {
      const api = plannerApi({
        refuse: () => ({
          status: 429,
          body: { error: { code: 'quota_exceeded', message: '20 runs are pending, the limit is 20', details: [] } },
        }),
      })
      const { s } = session(api)
      s.addFiles([makeFile('a.txt', 5)])
      await s.start(form)
      expect(s.getSnapshot().error?.title).toBe('Too many uploads for now')
      expect(s.getSnapshot().entries[0].problem).toBeNull()
    })
  })

  describe('progress', () => {
    it('hashing shows its rate and time left', async () => {
      let now = 0
      let report: (bytes: number) => void = () => undefined
      const hasher: Hasher = {
        hash: (_file, onProgress) => {
          report = onProgress
          return new Promise(() => undefined)
        },
      }
      const { s } = session(plannerApi(), { hasher, now: () => now })
      s.addFiles([makeFile('a.bin', 4 * MiB)])
      await flush()
      report(1 * MiB)
      await flush()
      now += 1000
      report(3 * MiB)
      await flush()
      const { hashing } = s.getSnapshot()
      expect(hashing).toMatchObject({ total: 4 * MiB, done: 3 * MiB })
      // from nothing to 3 MiB in a second
      expect(hashing.speed).toBeCloseTo(3 * MiB)
      expect(hashing.eta).toBeCloseTo(1 / 3)
    })

    it('hands out the same view of a file while nothing of it changed', async () => {
      const { s } = session(plannerApi())
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 5)])
      await flush()
      const before = s.getSnapshot().entries
      s.removeFile(before[1].id)
      const after = s.getSnapshot().entries
      expect(after[0]).toBe(before[0])
    })
  })

  describe('failures, retry and cancel', () => {
    it('remembers the run while uploading, so a reload can resume it', async () => {
      const api = plannerApi()
      // part 2 never succeeds: the file fails and the run stays resumable
      const { s, store } = session(api, { fail: (url) => (url.includes('partNumber=2') ? 400 : null) })
      s.addFiles([makeFile('big.bin', 12 * MiB)])
      await s.start(form)
      const snap = s.getSnapshot()
      expect(snap.phase).toBe('failed')
      expect(snap.entries[0].status).toBe('failed')
      expect(snap.entries[0].error).toMatch(/HTTP 400/)
      const [record] = store.list(API_URL)
      expect(record.runId).toBe(RUN_ID)
      expect(record.files[0]).toMatchObject({ fileId: '00000001-file-1', name: 'big.bin', done: false })
      expect(record.files[0].upload.method).toBe('multipart')
      expect(snap.unfinished).toEqual([]) // the session's own run is not "unfinished"

      s.reset() // given up on here: now it is one of the unfinished runs
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([RUN_ID])
    })

    it('cancel stops the upload and cancels the run', async () => {
      const api = plannerApi()
      const { s, store } = session(api, { fail: (url) => (url.includes('partNumber=2') ? 400 : null) })
      s.addFiles([makeFile('big.bin', 12 * MiB)])
      await s.start(form)
      await s.cancel()
      const snap = s.getSnapshot()
      expect(snap.phase).toBe('cancelled')
      expect(snap.run?.status).toBe('cancelled')
      expect(api.calls.some((c) => c.method === 'DELETE' && c.path === `/v1/uploads/${RUN_ID}`)).toBe(true)
      expect(store.list(API_URL)).toEqual([])
    })

    it('retry continues a failed upload', async () => {
      const api = plannerApi()
      let broken = true
      const { s } = session(api, { fail: (url) => (broken && url.includes('partNumber=2') ? 500 : null) })
      s.addFiles([makeFile('big.bin', 12 * MiB)])
      await s.start(form)
      expect(s.getSnapshot().phase).toBe('failed')
      broken = false
      await s.retry()
      expect(s.getSnapshot().phase).toBe('done')
    })

    it('retries one file', async () => {
      const api = plannerApi()
      let broken = true
      const { s, s3 } = session(api, { fail: (url) => (broken && url.endsWith('file-2') ? 400 : null) })
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 5), makeFile('c.txt', 5)])
      await s.start(form)
      expect(s.getSnapshot().entries.map((e) => e.status)).toEqual(['uploaded', 'failed', 'uploaded'])
      expect(s.getSnapshot().error?.message).toBe('1 of 3 files did not reach the bucket. Retry continues where they stopped.')
      broken = false
      s3.sent.length = 0
      await s.retryFile(s.getSnapshot().entries[1].id)
      expect(s.getSnapshot().phase).toBe('done')
      expect(s3.sent.map((p) => p.url)).toEqual([`http://s3.test/b/00000001-file-2`])
    })

    it('retries one file at once while the others are still sent', async () => {
      const api = plannerApi()
      const held = heldS3()
      const s3 = fakeS3()
      let attempts = 0
      const send: UploadPartBytes = (options) => {
        if (!options.signature.url.endsWith('file-1')) return held.send(options)
        return ++attempts === 1 ? Promise.reject(Object.assign(new Error('Non 2xx'), { source: { status: 400 } })) : s3.send(options)
      }
      const { s } = session(api, { send })
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(s.getSnapshot().entries[0].status).toBe('failed'))
      expect(s.getSnapshot().phase).toBe('uploading')
      await s.retryFile(s.getSnapshot().entries[0].id)
      await vi.waitFor(() => expect(s.getSnapshot().entries[0].status).toBe('uploaded'))
      held.release()
      await started
      expect(s.getSnapshot().phase).toBe('done')
      expect(attempts).toBe(2)
    })

    it('cancel while the run is being created cancels the run once it exists', async () => {
      let release: () => void = () => undefined
      const gate = new Promise<void>((r) => (release = r))
      const api = plannerApi()
      const { api: slowApi, calls } = fakeApi({
        ...api.handlers,
        'POST /v1/uploads': async (call) => {
          await gate
          return api.handlers['POST /v1/uploads'](call)
        },
      })
      const s = new UploadSession({ api: slowApi, hasher: fakeHasher(), store: new ResumeStore(), network: new Network(null), throttleMs: 0 })
      s.addFiles([makeFile('a.txt', 10)])
      const started = s.start(form)
      await flush()
      expect(s.getSnapshot().phase).toBe('creating')
      await s.cancel()
      expect(s.getSnapshot().phase).toBe('cancelling')
      release()
      await started
      expect(s.getSnapshot().phase).toBe('cancelled')
      expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1)
      expect(new ResumeStore().list(API_URL)).toEqual([])
    })

    it('reset clears the notice, the offer and the error', async () => {
      const api = plannerApi()
      const big = makeFile('big.bin', 12 * MiB)
      await strandedRun(api, [big])
      const { s } = session(api, { fail: () => 400 })
      await flush()
      s.addFiles([big])
      expect(s.getSnapshot().offer).not.toBeNull()
      s.reset()
      expect(s.getSnapshot()).toMatchObject({ offer: null, entries: [] })

      s.addFiles([makeFile('a.txt', 5)])
      await s.start(form)
      expect(s.getSnapshot().error).not.toBeNull()
      await s.cancel()
      expect(s.getSnapshot()).toMatchObject({ phase: 'cancelled', notice: expect.stringMatching(/cancelled/) })
      s.reset()
      expect(s.getSnapshot()).toMatchObject({ phase: 'idle', notice: null, offer: null, error: null, entries: [] })
    })
  })

  describe('unfinished runs', () => {
    it('lists every run this browser left unfinished, newest first; resumes one from the drop zone and discards the other', async () => {
      const api = plannerApi()
      const one = makeFile('one.bin', 12 * MiB)
      const two = makeFile('two 🎬.mov', 8 * MiB)
      const first = await strandedRun(api, [one])
      await new Promise((r) => setTimeout(r, 5)) // a later savedAt
      const second = await strandedRun(api, [two, makeFile('notes.txt', 10)])

      const { s, s3 } = session(api)
      await flush()
      const listed = s.getSnapshot().unfinished
      expect(listed.map((r) => r.runId)).toEqual([second, first])
      expect(listed[0].remaining.map((f) => f.name)).toEqual(['two 🎬.mov', 'notes.txt'])

      // the first run's file, dropped on the normal drop zone: resume it instead of a new run?
      s.addFiles([one])
      expect(s.getSnapshot().offer).toEqual({ runId: first, matched: 1 })
      expect(s.getSnapshot().entries[0].hashState).toBe('waiting') // held, not hashed
      await s.acceptOffer()
      let snap = s.getSnapshot()
      expect(snap.phase).toBe('done')
      expect(snap.run?.id).toBe(first)
      expect(snap.unfinished.map((r) => r.runId)).toEqual([second]) // the other is kept
      expect(api.created).toHaveLength(2) // no new run
      // the fake bucket holds part 1: only parts 2 and 3 go
      expect(s3.sent.map((p) => new URL(p.url).searchParams.get('partNumber')).sort()).toEqual(['2', '3'])

      await s.discard(second)
      snap = s.getSnapshot()
      expect(api.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/v1/uploads/${second}`])
      expect(snap.unfinished).toEqual([])
      expect(snap.notice).toMatch(/^Unfinished upload cancelled/)
      expect(new ResumeStore().list(API_URL)).toEqual([])
    })

    it('resumes a run with its files picked again, and says which are missing or changed', async () => {
      const api = plannerApi()
      const big = makeFile('big.bin', 12 * MiB)
      const runId = await strandedRun(api, [big, makeFile('small.txt', 10)])
      const { s } = session(api)
      await s.resumeWith(runId, [makeFile('other.bin', 5)])
      expect(s.getSnapshot().error?.message).toBe('Not chosen again: «big.bin», «small.txt». Choose the same files to resume.')
      await s.resumeWith(runId, [makeFile('big.bin', 12 * MiB, 42), makeFile('small.txt', 10)])
      expect(s.getSnapshot().error?.message).toMatch(/^This file has changed since the upload started: «big\.bin»/)
      expect(s.getSnapshot().phase).toBe('idle')
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([runId]) // still there, to resume or discard

      await s.resumeWith(runId, [big, makeFile('small.txt', 10)])
      expect(s.getSnapshot().phase).toBe('done')
      expect(s.getSnapshot().unfinished).toEqual([])
    })

    it('an offer the files cannot take (modified since) says why and keeps them for a new run', async () => {
      const api = plannerApi()
      await strandedRun(api, [makeFile('big.bin', 12 * MiB)])
      const { s } = session(api)
      await flush()
      s.addFiles([makeFile('big.bin', 12 * MiB, 42)])
      expect(s.getSnapshot().offer).not.toBeNull()
      await s.acceptOffer()
      const snap = s.getSnapshot()
      expect(snap.error?.message).toMatch(/^This file has changed since the upload started/)
      expect(snap).toMatchObject({ phase: 'idle', offer: null })
      expect(names(s)).toEqual(['big.bin'])
      await flush()
      expect(s.getSnapshot().entries[0].hashState).toBe('waiting') // over the threshold: hashed while it uploads
      await s.resumeWith(snap.unfinished[0].runId, [makeFile('big.bin', 12 * MiB)])
      expect(s.getSnapshot().error?.message).toBe('Upload or remove the files chosen for a new run first.')
    })

    it('offers nothing for files of no unfinished run, and other files take the offer back', async () => {
      const api = plannerApi()
      const big = makeFile('big.bin', 12 * MiB)
      await strandedRun(api, [big])
      const hasher = fakeHasher()
      const { s } = session(api, { hasher })
      await flush()
      s.addFiles([makeFile('unrelated.txt', 3)])
      expect(s.getSnapshot().offer).toBeNull()
      s.removeFile(s.getSnapshot().entries[0].id)
      s.addFiles([makeFile('big.bin', 12 * MiB)])
      expect(s.getSnapshot().offer).not.toBeNull()
      s.addFiles([makeFile('extra.txt', 3)])
      expect(s.getSnapshot().offer).toBeNull()
      await flush()
      expect(hasher.hashed).toEqual(['unrelated.txt', 'extra.txt'])
    })

    it('forgets runs that are no longer pending or are gone, and keeps the others while the API is unreachable', async () => {
      const api = plannerApi()
      const stored = await strandedRun(api, [makeFile('a.bin', 12 * MiB)])
      const gone = await strandedRun(api, [makeFile('b.bin', 12 * MiB)])
      const kept = await strandedRun(api, [makeFile('c.bin', 12 * MiB)])
      api.statuses.set(stored, 'stored')
      api.statuses.delete(gone)
      const { s } = session(api)
      await flush()
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([kept])

      const { api: down } = fakeApi({ 'GET /v1/runs/:run': () => ({ status: 503, body: { error: { code: 'unavailable', message: 'down' } } }) })
      const offline = new UploadSession({ api: down, hasher: fakeHasher(), store: new ResumeStore(), network: new Network(null) })
      await offline.refreshUnfinished()
      expect(offline.getSnapshot().unfinished.map((r) => r.runId)).toEqual([kept])
    })

    it('a run that is no longer pending is not resumed, and is forgotten', async () => {
      const api = plannerApi()
      const big = makeFile('big.bin', 12 * MiB)
      const runId = await strandedRun(api, [big])
      const { s } = session(api)
      api.statuses.set(runId, 'expired')
      await s.resumeWith(runId, [big])
      expect(s.getSnapshot().notice).toBe(`Run ${runId.slice(0, 8)} is expired; nothing to resume.`)
      expect(s.getSnapshot().unfinished).toEqual([])
      expect(new ResumeStore().list(API_URL)).toEqual([])
    })

    it('discarding a run that is no longer pending forgets it: the code decides, not the message', async () => {
      const api = plannerApi()
      const runId = await strandedRun(api, [makeFile('big.bin', 12 * MiB)])
      const { api: storedApi } = fakeApi({
        'DELETE /v1/uploads/:run': () => ({ status: 409, body: { error: { code: 'run_not_pending', message: 'anything at all', details: [] } } }),
      })
      const s = new UploadSession({ api: storedApi, hasher: fakeHasher(), store: new ResumeStore(), network: new Network(null) })
      await s.discard(runId)
      expect(s.getSnapshot().error).toBeNull()
      expect(s.getSnapshot().unfinished).toEqual([])
      expect(new ResumeStore().list(API_URL)).toEqual([])
    })

    it('discarding keeps the run when the API cannot cancel it now, and never touches the upload under way', async () => {
      const api = plannerApi()
      const runId = await strandedRun(api, [makeFile('big.bin', 12 * MiB)])
      const held = heldS3()
      const { api: downApi } = fakeApi({
        ...api.handlers,
        'DELETE /v1/uploads/:run': () => ({
          status: 503,
          body: { error: { code: 'unavailable', message: 'the database cannot be reached; try again shortly', details: [] } },
        }),
      })
      const s = new UploadSession({
        api: downApi,
        hasher: fakeHasher(),
        store: new ResumeStore(),
        network: new Network(null),
        throttleMs: 0,
        uploaderOptions: { uploadPartBytes: held.send, retryDelays: [0], logger: quietLogger },
      })
      s.addFiles([makeFile('new.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(held.waiting()).toBe(1))
      await s.discard(runId)
      expect(s.getSnapshot().error?.message).toBe('the database cannot be reached; try again shortly')
      expect(s.getSnapshot().phase).toBe('uploading')
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([runId])
      held.release()
      await started
      expect(s.getSnapshot().phase).toBe('done')
    })

    it('takes in the record an older page kept for its one interrupted upload', async () => {
      const api = plannerApi()
      const runId = await strandedRun(api, [makeFile('big.bin', 12 * MiB)])
      const [record] = new ResumeStore().list(API_URL)
      localStorage.clear()
      localStorage.setItem(OLD_RESUME_KEY, JSON.stringify({ version: 1, ...record }))
      const { s } = session(api)
      await flush()
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([runId])
      expect(localStorage.getItem(OLD_RESUME_KEY)).toBeNull()
    })

    it('a resume that cannot reach the API leaves the run among the unfinished ones', async () => {
      const api = plannerApi()
      const big = makeFile('big.bin', 12 * MiB)
      const runId = await strandedRun(api, [big])
      const { api: down } = fakeApi({ 'GET /v1/runs/:run': () => ({ status: 503, body: { error: { code: 'unavailable', message: 'down' } } }) })
      const s = new UploadSession({ api: down, hasher: fakeHasher(), store: new ResumeStore(), network: new Network(null) })
      await s.resumeWith(runId, [big])
      expect(s.getSnapshot()).toMatchObject({ phase: 'idle', error: { message: 'down' } })
      expect(s.getSnapshot().unfinished.map((r) => r.runId)).toEqual([runId])
    })
  })

  describe('a file that changed after it was chosen', () => {
    it('is marked changed when it cannot be hashed, and is picked again in its place', async () => {
      const api = plannerApi()
      const { s } = session(api)
      s.addFiles([makeFile('a.txt', 5), changeOnDisk(makeFile('notes 📝.txt', 5))])
      await flush()
      const changed = s.getSnapshot().entries[1]
      expect(changed).toMatchObject({ changed: true, status: 'failed', hashState: 'error' })
      expect(changed.error).toBe(
        '«notes 📝.txt» changed after it was chosen (it was modified or moved); choose it again to upload the new version.',
      )
      await s.start(form)
      expect(api.created).toEqual([])

      s.replaceFile(changed.id, makeFile('notes 📝.txt', 7, 1_800_000_000_000))
      await flush()
      const fresh = s.getSnapshot().entries[1]
      expect(fresh).toMatchObject({ id: changed.id, size: 7, changed: false, status: 'selected', hashState: 'done', error: null })
      await s.start(form)
      expect(s.getSnapshot().phase).toBe('done')
    })

    it('fails at once while uploading, is not retried, and choosing it again starts a new run', async () => {
      const api = plannerApi()
      const { s, s3 } = session(api, { fail: (url) => (url.endsWith('00000001-file-2') ? 0 : null) })
      const notes = makeFile('notes.txt', 5)
      s.addFiles([makeFile('a.txt', 5), notes])
      await flush()
      changeOnDisk(notes) // modified after it was hashed, before it was sent
      await s.start(form)
      let snap = s.getSnapshot()
      expect(snap.phase).toBe('failed')
      expect(snap.entries.map((e) => [e.status, e.changed])).toEqual([
        ['uploaded', false],
        ['failed', true],
      ])
      expect(snap.error?.message).toBe('1 of 2 files did not reach the bucket. It changed after being chosen: choose it again (see the list).')

      const sent = s3.sent.length
      await s.retry() // nothing to retry: only choosing it again helps
      await s.retryFile(snap.entries[1].id)
      expect(s.getSnapshot().phase).toBe('failed')
      expect(s3.sent).toHaveLength(sent)

      s.replaceFile(snap.entries[1].id, makeFile('notes.txt', 6, 1_800_000_000_000))
      await vi.waitFor(() => expect(s.getSnapshot().phase).toBe('idle'))
      snap = s.getSnapshot()
      expect(api.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/v1/uploads/${RUN_ID}`])
      expect(snap.run).toBeNull()
      expect(snap.entries.map((e) => [e.name, e.size, e.status])).toEqual([
        ['a.txt', 5, 'selected'],
        ['notes.txt', 6, 'selected'],
      ])
      expect(snap.notice).toBe(`A file changed, so run ${RUN_ID.slice(0, 8)} was cancelled. Upload starts a new run with the new version.`)
      expect(snap.unfinished).toEqual([])
      expect(new ResumeStore().list(API_URL)).toEqual([])

      await flush()
      await s.start(form)
      expect(s.getSnapshot().phase).toBe('done')
      expect(s.getSnapshot().run?.id).toBe(runIdOf(2))
    })
  })

  describe('offline, stalls and pauses', () => {
    it('pauses while offline, shows no stale speed, and goes on once back online', async () => {
      const held = heldS3()
      const { s, network } = session(plannerApi(), { send: held.send })
      s.addFiles([makeFile('a.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(held.waiting()).toBe(1))
      network.setOnline(false)
      const snap = s.getSnapshot()
      expect(snap).toMatchObject({ online: false, phase: 'uploading' })
      expect(snap.overall).toMatchObject({ stalled: true, speed: null, eta: null })
      expect(snap.entries[0]).toMatchObject({ speed: null, eta: null })
      expect(held.aborted).toEqual([`http://s3.test/b/00000001-file-1`]) // the request stopped, not failed

      network.setOnline(true)
      expect(s.getSnapshot()).toMatchObject({ online: true, overall: expect.objectContaining({ stalled: false }) })
      held.release()
      await started
      expect(s.getSnapshot().phase).toBe('done')
      expect(held.sent).toHaveLength(1)
    })

    it('says the upload is stalled when no byte moved for 5 s', async () => {
      let now = 0
      const held = heldS3()
      const { s } = session(plannerApi(), { send: held.send, now: () => now, tickMs: 5 })
      s.addFiles([makeFile('a.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(held.waiting()).toBe(1))
      expect(s.getSnapshot().overall.stalled).toBe(false)
      now += 5001
      await vi.waitFor(() => expect(s.getSnapshot().overall.stalled).toBe(true))
      held.release()
      await started
      expect(s.getSnapshot().overall.stalled).toBe(false)
    })

    it('pauses and resumes everything', async () => {
      const held = heldS3()
      const { s } = session(plannerApi(), { send: held.send })
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(held.waiting()).toBe(2))
      s.pauseAll()
      expect(s.getSnapshot()).toMatchObject({ paused: true, overall: expect.objectContaining({ stalled: false, speed: null }) })
      expect(held.aborted).toHaveLength(2)
      s.resumeAll()
      expect(s.getSnapshot().paused).toBe(false)
      held.release()
      await started
      expect(s.getSnapshot().phase).toBe('done')
    })

    it('pauses one file while the others go on, and goes on with it', async () => {
      const held = heldS3()
      const { s } = session(plannerApi(), { send: held.send })
      s.addFiles([makeFile('a.txt', 5), makeFile('b.txt', 5)])
      const started = s.start(form)
      await vi.waitFor(() => expect(held.waiting()).toBe(2))
      const [a, b] = s.getSnapshot().entries
      s.pauseFile(a.id)
      expect(s.getSnapshot().entries[0].status).toBe('paused')
      held.release()
      await vi.waitFor(() => expect(s.getSnapshot().entries[1].status).toBe('uploaded'))
      expect(s.getSnapshot().entries[0].status).toBe('paused')
      expect(s.getSnapshot().phase).toBe('uploading')

      // pausing everything and going on keeps it paused
      s.pauseAll()
      s.resumeAll()
      await flush()
      expect(s.getSnapshot().entries[0].status).toBe('paused')

      s.resumeFile(a.id)
      await started
      expect(s.getSnapshot().phase).toBe('done')
      expect(s.getSnapshot().entries.map((e) => e.status)).toEqual(['uploaded', 'uploaded'])
      expect(held.sent.map((p) => p.url).sort()).toEqual([`http://s3.test/b/00000001-file-1`, `http://s3.test/b/00000001-file-2`])
      expect(b.id).not.toBe(a.id)
    })
  })

  describe('hashing while uploading', () => {
    /** Hashes like fakeHasher, but a large file's hash ends only when `finish()` is called
     * (or fails, with `fail()`); records the order the files were asked for. */
    function gatedHasher() {
      const inner = fakeHasher()
      const asked: string[] = []
      let open: () => void = () => undefined
      let shut: (error: Error) => void = () => undefined
      let gate = new Promise<void>((resolve, reject) => ((open = resolve), (shut = reject)))
      const hasher: Hasher = {
        async hash(file, onProgress, signal) {
          asked.push((file as File).name)
          if (file.size > THRESHOLD) await gate
          return inner.hash(file, onProgress, signal)
        },
      }
      return {
        hasher,
        asked,
        finish: () => open(),
        fail: () => {
          shut(new Error('could not compute the sha256: the file could not be read'))
          gate = new Promise<void>((resolve) => (open = resolve))
        },
      }
    }

    const big = makeFile('big.bin', THRESHOLD + 1)
    const small = makeFile('notes.txt', 100)
    const hexOf = async (file: File) => sha256Hex(new Uint8Array(await file.arrayBuffer()))
    const completions = (api: Planner) => api.calls.filter((c) => c.path.endsWith('/complete')).map((c) => c.body as { sha256?: string })

    it('creates the run without waiting for a large file, sends its parts while hashing, and declares its sha256 at complete', async () => {
      const api = plannerApi()
      const gated = gatedHasher()
      const { s, s3 } = session(api, { hasher: gated.hasher })
      s.addFiles([big, small])
      await flush()
      expect(gated.asked).toEqual(['notes.txt']) // the large file waits for its upload
      expect(s.getSnapshot().entries[0].hashState).toBe('waiting')
      const started = s.start({ type: 'ds_etc', label: '', notes: '' })
      await flush(20)
      expect(gated.asked).toEqual(['notes.txt', 'big.bin'])

      expect(api.created[0].files.map((f) => f.sha256)).toEqual([null, await hexOf(small)])
      expect(s.getSnapshot().phase).toBe('uploading')
      expect(s.getSnapshot().entries[0].hashState).toBe('hashing')
      await vi.waitFor(() => expect(s3.sent.filter((p) => p.url.includes('/00000001-file-1?')).length).toBe(2)) // every part, before the hash
      expect(completions(api)).toEqual([]) // complete waits for the sha256

      gated.finish()
      await started
      expect(s.getSnapshot().phase).toBe('done')
      expect(completions(api)).toEqual([expect.objectContaining({ sha256: await hexOf(big) })])
    })

    it('a hash that fails while uploading fails the file; retry hashes it again and completes', async () => {
      const api = plannerApi()
      const gated = gatedHasher()
      const { s } = session(api, { hasher: gated.hasher })
      s.addFiles([big])
      const started = s.start({ type: 'ds_etc', label: '', notes: '' })
      await flush(20)
      gated.fail()
      await started
      const failed = s.getSnapshot()
      expect(failed.phase).toBe('failed')
      expect(failed.entries[0].status).toBe('failed')
      expect(completions(api)).toEqual([])

      const retried = s.retry()
      await flush(20)
      expect(s.getSnapshot().entries[0].hashState).toBe('hashing')
      gated.finish()
      await retried
      expect(s.getSnapshot().phase).toBe('done')
      expect(completions(api)).toEqual([expect.objectContaining({ sha256: await hexOf(big) })])
    })

    it('after a reload, a file that was hashing while it uploaded is hashed again and declared at complete', async () => {
      const api = plannerApi()
      const first = session(api, { fail: (url) => (url.includes('partNumber=2') ? 400 : null), hasher: gatedHasher().hasher })
      first.s.addFiles([big])
      await first.s.start({ type: 'ds_etc', label: '', notes: '' })
      expect(first.s.getSnapshot().phase).toBe('failed')
      expect(first.store.list(API_URL)[0].files[0].sha256).toBe('') // never hashed: nothing to keep
      first.s.destroy()

      const { s } = session(api)
      await s.resumeWith(RUN_ID, [big])
      expect(s.getSnapshot().phase).toBe('done')
      expect(completions(api)).toEqual([expect.objectContaining({ sha256: await hexOf(big) })])
    })
  })

  it('uses a safe content type', () => {
    expect(contentTypeOf(new File([], 'a', { type: 'application/gzip' }))).toBe('application/gzip')
    expect(contentTypeOf(new File([], 'a'))).toBe('application/octet-stream')
  })
})
