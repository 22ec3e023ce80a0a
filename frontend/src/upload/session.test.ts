import { describe, expect, it, vi } from 'vitest'
import type { CreateUploadRequest, UploadFileOut } from '../lib/types'
import { MiB, fakeApi, fakeHasher, fakeS3, flush, makeFile, makeRun, makeRunDetail, quietLogger, sha256Hex } from '../test/fakes'
import { ResumeStore } from './resume'
import { HASH_FIRST_MAX, contentTypeOf } from './entries'
import type { Hasher } from './hasher'
import { UploadSession } from './session'

const RUN_ID = '11111111-2222-3333-4444-555555555555'
const expires = () => new Date(Date.now() + 900_000).toISOString()

/** A fake API that plans uploads like the real one: multipart above 16 MiB... scaled down to 6 MiB. */
function plannerApi(options: { threshold?: number; partSize?: number; createStatus?: number } = {}) {
  const threshold = options.threshold ?? 6 * MiB
  const partSize = options.partSize ?? 5 * MiB
  const created: CreateUploadRequest[] = []
  const handlers: Parameters<typeof fakeApi>[0] = {
    'POST /v1/uploads': ({ body }) => {
      const request = body as CreateUploadRequest
      created.push(request)
      if (options.createStatus) {
        return {
          status: options.createStatus,
          body: {
            error: {
              code: 'too_large',
              message: `file '${request.files[0].name}' is ${request.files[0].size} bytes; the limit is 1048576 bytes`,
              details: [{ field: 'files[0].size', message: 'larger than the maximum file size' }],
            },
          },
        }
      }
      const files: UploadFileOut[] = request.files.map((f, i) => {
        const id = `file-${i + 1}`
        const base = {
          id,
          run_id: RUN_ID,
          name: f.name,
          key: `runs/${RUN_ID}/${id}/${f.name}`,
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
        if (f.size <= threshold) {
          return {
            ...base,
            upload: { method: 'PUT', url: `http://s3.test/b/${id}`, headers: { 'Content-Type': f.content_type, 'If-None-Match': '*' }, expires_at: expires() },
          }
        }
        const count = Math.ceil(f.size / partSize)
        return {
          ...base,
          upload: {
            method: 'multipart',
            upload_id: `up-${id}`,
            part_size: partSize,
            part_count: count,
            parts: [{ part_number: 1, url: `http://s3.test/b/${id}?uploadId=up&partNumber=1`, expires_at: expires() }],
          },
        }
      })
      return { status: 201, body: { run: makeRun({ id: RUN_ID, file_count: files.length }), files } }
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
    'DELETE /v1/uploads/:run': () => ({ body: makeRun({ id: RUN_ID, status: 'cancelled' }) }),
    'GET /v1/runs/:run': () => ({ body: makeRunDetail({ id: RUN_ID }) }),
  }
  return { ...fakeApi(handlers), handlers, created }
}

function session(api: ReturnType<typeof plannerApi>, fail?: Parameters<typeof fakeS3>[0], hasher: Hasher = fakeHasher()) {
  const s3 = fakeS3(fail)
  const store = new ResumeStore()
  const s = new UploadSession({
    api: api.api,
    hasher,
    store,
    uploaderOptions: { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger },
    throttleMs: 0,
  })
  return { s, s3, store }
}

describe('UploadSession', () => {
  it('hashes, creates the run with the declared sha256, uploads everything, and is done', async () => {
    const api = plannerApi()
    const { s, s3, store } = session(api)
    const big = makeFile('big.bin', 12 * MiB)
    const small = makeFile('notes.txt', 100, undefined, 'text/plain')
    s.addFiles([big, small])
    await flush()
    expect(s.getSnapshot().entries.map((e) => e.hashState)).toEqual(['done', 'done'])

    await s.start({ type: 'ds_etc', label: '  prod  ', notes: '' })
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('done')
    expect(snap.run?.id).toBe(RUN_ID)
    expect(snap.overall.fraction).toBe(1)
    expect(snap.entries.map((e) => e.status)).toEqual(['uploaded', 'uploaded'])
    expect(snap.entries[0].method).toBe('multipart')
    expect(snap.entries[0].partCount).toBe(3)

    expect(api.created).toHaveLength(1)
    expect(api.created[0]).toEqual({
      type: 'ds_etc',
      label: 'prod',
      notes: null,
      files: [
        { name: 'big.bin', size: 12 * MiB, content_type: 'application/octet-stream', sha256: sha256Hex(new Uint8Array(await big.arrayBuffer())) },
        { name: 'notes.txt', size: 100, content_type: 'text/plain', sha256: sha256Hex(new Uint8Array(await small.arrayBuffer())) },
      ],
    })
    expect(s3.sent).toHaveLength(4) // 3 parts + 1 PUT
    expect(store.load()).toBeNull() // nothing left to resume
  })

  it("shows the API's message when it refuses the upload, and keeps the files to fix the choice", async () => {
    const api = plannerApi({ createStatus: 413 })
    const { s } = session(api)
    s.addFiles([makeFile('too-big.bin', 2_000_000)])
    await s.start({ type: 'app_bundle', label: '', notes: '' })
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('idle')
    expect(snap.error).toEqual({
      title: 'The API refused this upload',
      message: "file 'too-big.bin' is 2000000 bytes; the limit is 1048576 bytes",
      details: ['files[0].size: larger than the maximum file size'],
    })
    expect(snap.entries).toHaveLength(1)
  })

  it('refuses to start with no files', async () => {
    const { s } = session(plannerApi())
    await s.start({ type: 'app_bundle', label: '', notes: '' })
    expect(s.getSnapshot().error?.message).toMatch(/at least one file/)
  })

  it('does not add the same file twice, and removes files before the upload', () => {
    const { s } = session(plannerApi())
    const f = makeFile('a.txt', 10)
    s.addFiles([f, f])
    expect(s.getSnapshot().entries).toHaveLength(1)
    s.removeFile(s.getSnapshot().entries[0].id)
    expect(s.getSnapshot().entries).toHaveLength(0)
  })

  it('remembers the run while uploading, so a reload can resume it', async () => {
    const api = plannerApi()
    // part 2 never succeeds: the file fails and the run stays resumable
    const { s, store } = session(api, (url) => (url.includes('partNumber=2') ? 400 : null))
    s.addFiles([makeFile('big.bin', 12 * MiB)])
    await s.start({ type: 'app_bundle', label: 'x', notes: '' })
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('failed')
    expect(snap.entries[0].status).toBe('failed')
    expect(snap.entries[0].error).toMatch(/HTTP 400/)
    const record = store.load()
    expect(record?.runId).toBe(RUN_ID)
    expect(record?.files[0]).toMatchObject({ fileId: 'file-1', name: 'big.bin', done: false })
    expect(record?.files[0].upload.method).toBe('multipart')
  })

  it('cancel stops the upload and cancels the run', async () => {
    const api = plannerApi()
    const { s, store } = session(api, (url) => (url.includes('partNumber=2') ? 400 : null))
    s.addFiles([makeFile('big.bin', 12 * MiB)])
    await s.start({ type: 'app_bundle', label: '', notes: '' })
    await s.cancel()
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('cancelled')
    expect(snap.run?.status).toBe('cancelled')
    expect(api.calls.some((c) => c.method === 'DELETE' && c.path === `/v1/uploads/${RUN_ID}`)).toBe(true)
    expect(store.load()).toBeNull()
  })

  it('retry continues a failed upload', async () => {
    const api = plannerApi()
    let broken = true
    const { s } = session(api, (url) => (broken && url.includes('partNumber=2') ? 500 : null))
    s.addFiles([makeFile('big.bin', 12 * MiB)])
    await s.start({ type: 'app_bundle', label: '', notes: '' })
    expect(s.getSnapshot().phase).toBe('failed')
    broken = false
    await s.retry()
    expect(s.getSnapshot().phase).toBe('done')
  })

  it('resumes after a reload with the same file chosen again, sending only missing parts', async () => {
    const api = plannerApi()
    const first = session(api, (url) => (url.includes('partNumber=2') ? 400 : null))
    const big = makeFile('big.bin', 12 * MiB)
    first.s.addFiles([big])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    first.s.destroy()

    // "reload": a new session finds the record
    const { s, s3 } = session(api)
    const resume = s.getSnapshot().resume
    expect(resume?.runId).toBe(RUN_ID)
    await s.resumeWith([makeFile('other.bin', 5)])
    expect(s.getSnapshot().error?.message).toMatch(/choose the same files again: big.bin/)

    await s.resumeWith([big])
    const snap = s.getSnapshot()
    expect(snap.phase).toBe('done')
    expect(snap.resume).toBeNull()
    // the fake bucket holds part 1: only parts 2 and 3 go
    expect(s3.sent.map((p) => new URL(p.url).searchParams.get('partNumber')).sort()).toEqual(['2', '3'])
  })

  it('a run that is no longer pending is not resumed', async () => {
    const api = plannerApi()
    const first = session(api, () => 400)
    const big = makeFile('big.bin', 12 * MiB)
    first.s.addFiles([big])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    const { api: expiredApi } = fakeApi({ 'GET /v1/runs/:run': () => ({ body: makeRunDetail({ id: RUN_ID, status: 'expired' }) }) })
    const s = new UploadSession({ api: expiredApi, hasher: fakeHasher(), store: new ResumeStore() })
    await s.resumeWith([big])
    expect(s.getSnapshot().notice).toMatch(/is expired; nothing to resume/)
    expect(s.getSnapshot().resume).toBeNull()
    expect(new ResumeStore().load()).toBeNull()
  })

  it('discarding an interrupted upload cancels its run', async () => {
    const api = plannerApi()
    const first = session(api, () => 400)
    first.s.addFiles([makeFile('big.bin', 12 * MiB)])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    const { s } = session(api)
    await s.discardResume()
    expect(api.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1)
    expect(s.getSnapshot().resume).toBeNull()
    expect(s.getSnapshot().notice).toMatch(/discarded/)
  })

  it('discarding a run that is no longer pending forgets it: the code decides, not the message', async () => {
    const api = plannerApi()
    const first = session(api, () => 400)
    first.s.addFiles([makeFile('big.bin', 12 * MiB)])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    const { api: storedApi } = fakeApi({
      'DELETE /v1/uploads/:run': () => ({
        status: 409,
        body: { error: { code: 'run_not_pending', message: 'anything at all', details: [] } },
      }),
    })
    const s = new UploadSession({ api: storedApi, hasher: fakeHasher(), store: new ResumeStore() })
    await s.discardResume()
    expect(s.getSnapshot().error).toBeNull()
    expect(s.getSnapshot().resume).toBeNull()
    expect(s.getSnapshot().phase).toBe('idle')
    expect(new ResumeStore().load()).toBeNull()
  })

  it('discarding keeps the interrupted upload when the API cannot cancel it now', async () => {
    const api = plannerApi()
    const first = session(api, () => 400)
    first.s.addFiles([makeFile('big.bin', 12 * MiB)])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    const { api: downApi } = fakeApi({
      'DELETE /v1/uploads/:run': () => ({
        status: 503,
        body: { error: { code: 'unavailable', message: 'the database cannot be reached; try again shortly', details: [] } },
      }),
    })
    const s = new UploadSession({ api: downApi, hasher: fakeHasher(), store: new ResumeStore() })
    await s.discardResume()
    expect(s.getSnapshot().error?.message).toBe('the database cannot be reached; try again shortly')
    expect(s.getSnapshot().phase).toBe('idle')
    expect(new ResumeStore().load()?.runId).toBe(RUN_ID)
  })

  it('a run that is gone (not_found) is not resumed', async () => {
    const api = plannerApi()
    const first = session(api, () => 400)
    const big = makeFile('big.bin', 12 * MiB)
    first.s.addFiles([big])
    await first.s.start({ type: 'app_bundle', label: '', notes: '' })
    const { api: goneApi } = fakeApi({})
    const s = new UploadSession({ api: goneApi, hasher: fakeHasher(), store: new ResumeStore() })
    await s.resumeWith([big])
    expect(s.getSnapshot().notice).toBe(`Run ${RUN_ID} no longer exists; nothing to resume.`)
    expect(s.getSnapshot().phase).toBe('idle')
  })

  it('cancel while the run is being created cancels the run once it exists', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    const api = plannerApi()
    const { api: slowApi, calls } = fakeApi({
      'POST /v1/uploads': async (call) => {
        await gate
        return api.handlers['POST /v1/uploads'](call)
      },
      'DELETE /v1/uploads/:run': () => ({ body: makeRun({ id: RUN_ID, status: 'cancelled' }) }),
    })
    const s = new UploadSession({ api: slowApi, hasher: fakeHasher(), store: new ResumeStore(), throttleMs: 0 })
    s.addFiles([makeFile('a.txt', 10)])
    const started = s.start({ type: 'app_bundle', label: '', notes: '' })
    await flush()
    expect(s.getSnapshot().phase).toBe('creating')
    await s.cancel()
    expect(s.getSnapshot().phase).toBe('cancelling')
    release()
    await started
    expect(s.getSnapshot().phase).toBe('cancelled')
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1)
    expect(new ResumeStore().load()).toBeNull()
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
          if (file.size > HASH_FIRST_MAX) await gate
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

    const big = makeFile('big.bin', HASH_FIRST_MAX + 1)
    const small = makeFile('notes.txt', 100)
    const hexOf = async (file: File) => sha256Hex(new Uint8Array(await file.arrayBuffer()))
    const completions = (api: ReturnType<typeof plannerApi>) =>
      api.calls.filter((c) => c.path.endsWith('/complete')).map((c) => c.body as { sha256?: string })

    it('creates the run without waiting for a large file, sends its parts while hashing, and declares its sha256 at complete', async () => {
      const api = plannerApi()
      const gated = gatedHasher()
      const { s, s3 } = session(api, undefined, gated.hasher)
      s.addFiles([big, small])
      expect(gated.asked).toEqual(['notes.txt']) // the large file waits for its upload
      expect(s.getSnapshot().entries[0].hashState).toBe('waiting')
      const started = s.start({ type: 'ds_etc', label: '', notes: '' })
      await flush(20)
      expect(gated.asked).toEqual(['notes.txt', 'big.bin'])

      expect(api.created[0].files.map((f) => f.sha256)).toEqual([null, await hexOf(small)])
      expect(s.getSnapshot().phase).toBe('uploading')
      expect(s.getSnapshot().entries[0].hashState).toBe('hashing')
      await vi.waitFor(() => expect(s3.sent.filter((p) => p.url.includes('/file-1?')).length).toBe(4)) // every part, before the hash
      expect(completions(api)).toEqual([]) // complete waits for the sha256

      gated.finish()
      await started
      expect(s.getSnapshot().phase).toBe('done')
      expect(completions(api)).toEqual([expect.objectContaining({ sha256: await hexOf(big) })])
    })

    it('a hash that fails while uploading fails the file; retry hashes it again and completes', async () => {
      const api = plannerApi()
      const gated = gatedHasher()
      const { s } = session(api, undefined, gated.hasher)
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
      const first = session(api, (url) => (url.includes('partNumber=2') ? 400 : null), gatedHasher().hasher)
      first.s.addFiles([big])
      await first.s.start({ type: 'ds_etc', label: '', notes: '' })
      expect(first.s.getSnapshot().phase).toBe('failed')
      expect(first.store.load()?.files[0].sha256).toBe('') // never hashed: nothing to keep
      first.s.destroy()

      const { s } = session(api)
      await s.resumeWith([big])
      expect(s.getSnapshot().phase).toBe('done')
      expect(completions(api)).toEqual([expect.objectContaining({ sha256: await hexOf(big) })])
    })
  })

  it('uses a safe content type', () => {
    expect(contentTypeOf(new File([], 'a', { type: 'application/gzip' }))).toBe('application/gzip')
    expect(contentTypeOf(new File([], 'a'))).toBe('application/octet-stream')
  })
})
