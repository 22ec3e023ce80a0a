import { describe, expect, it } from 'vitest'
import { ApiError } from '../lib/api'
import { statusOf } from '../lib/retry'
import type { MultipartUpload, SignedPart, SingleUpload } from '../lib/types'
import { MiB, changeOnDisk, fakeApi, fakeS3, makeFile, quietLogger } from '../test/fakes'
import { FileChanged, describeUploadError } from './errors'
import { BucketUploader, partOfUrl, retryingSend } from './uppy'

const RUN = 'run-1'
const FILE = 'file-1'
const expires = () => new Date(Date.now() + 900_000).toISOString()
const partUrl = (n: number, v = 1) => `http://s3.test/inlet-uploads/k?uploadId=up-1&partNumber=${n}&v=${v}`
const signed = (n: number, v = 1): SignedPart => ({ part_number: n, url: partUrl(n, v), expires_at: expires() })

function multipart(partCount: number, partSize: number, first: number[]): MultipartUpload {
  return { method: 'multipart', upload_id: 'up-1', part_size: partSize, part_count: partCount, parts: first.map((n) => signed(n)) }
}

function api(stored: { part_number: number; etag: string; size: number }[] = []) {
  let version = 1
  return fakeApi({
    'POST /v1/uploads/:run/files/:file/parts': ({ body }) => {
      version += 1
      const numbers = (body as { part_numbers: number[] }).part_numbers
      return { body: { parts: numbers.map((n) => signed(n, version)) } }
    },
    'GET /v1/uploads/:run/files/:file/parts': () => ({ body: { parts: stored } }),
    'POST /v1/uploads/:run/files/:file/complete': () => ({ body: { id: FILE } }),
  })
}

async function run(uploader: BucketUploader) {
  const result = await uploader.upload()
  return { successful: result?.successful?.length ?? 0, failed: result?.failed ?? [] }
}

describe('BucketUploader (Uppy with our hooks)', () => {
  it('sends a small file as the single presigned PUT, with every header the server signed', async () => {
    const { api: client, calls } = api()
    const s3 = fakeS3()
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger })
    const headers = { 'Content-Type': 'text/plain', 'If-None-Match': '*', 'x-amz-checksum-sha256': 'c2hh' }
    const upload: SingleUpload = {
      method: 'PUT',
      url: 'http://s3.test/inlet-uploads/runs/x/notes.txt?X-Amz-Signature=abc',
      headers,
      expires_at: expires(),
    }
    uploader.add(makeFile('notes.txt', 1234), { runId: RUN, fileId: FILE, key: 'k', upload })
    expect(await run(uploader)).toEqual({ successful: 1, failed: [] })
    expect(s3.sent).toEqual([{ url: upload.url, size: 1234, headers }])
    expect(calls).toEqual([]) // no API call for a single PUT
  })

  it('a single PUT answered 412 (an object is at its key: an earlier attempt went in) counts as sent', async () => {
    const { api: client } = api()
    // the first attempt's answer is lost (it went in); the retry meets If-None-Match: *
    const s3 = fakeS3((_url, attempt) => (attempt === 1 ? 0 : 412))
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0], logger: quietLogger })
    const upload: SingleUpload = { method: 'PUT', url: 'http://s3.test/b/k', headers: { 'If-None-Match': '*' }, expires_at: expires() }
    const id = uploader.add(makeFile('a.txt', 10), { runId: RUN, fileId: FILE, key: 'k', upload })
    expect(await run(uploader)).toEqual({ successful: 1, failed: [] })
    expect(uploader.uppy.getFile(id).progress.bytesUploaded).toBe(10)
  })

  it('a part answered 412 is a failure', async () => {
    const { api: client } = api()
    const s3 = fakeS3((url) => (url.includes('partNumber=2') ? 412 : null))
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0], logger: quietLogger })
    uploader.add(makeFile('big.bin', 10 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(2, 5 * MiB, [1, 2]) })
    const result = await run(uploader)
    expect(result.successful).toBe(0)
    expect(result.failed).toHaveLength(1)
  })

  it('retries a single PUT that fails transiently', async () => {
    const { api: client } = api()
    const s3 = fakeS3((_url, attempt) => (attempt < 3 ? 503 : null))
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0, 0], logger: quietLogger })
    const upload: SingleUpload = { method: 'PUT', url: 'http://s3.test/b/k', headers: {}, expires_at: expires() }
    uploader.add(makeFile('a.txt', 10), { runId: RUN, fileId: FILE, key: 'k', upload })
    expect((await run(uploader)).successful).toBe(1)
    expect(s3.sent).toHaveLength(1)
  })

  it('cuts a multipart file into the server-planned parts, signs the rest on demand, completes in order', async () => {
    const { api: client, calls } = api()
    const s3 = fakeS3()
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger })
    const size = 12 * MiB + 5
    uploader.add(makeFile('big.bin', size), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(3, 5 * MiB, [1]) })
    expect(await run(uploader)).toEqual({ successful: 1, failed: [] })

    const sizes = new Map(s3.sent.map((p) => [Number(new URL(p.url).searchParams.get('partNumber')), p.size]))
    expect([...sizes.entries()].sort()).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 2 * MiB + 5],
    ])
    const signCalls = calls.filter((c) => c.method === 'POST' && c.path.endsWith('/parts'))
    expect(signCalls).toHaveLength(1) // parts 2 and 3 in one batch
    expect(signCalls[0].body).toEqual({ part_numbers: [2, 3] })
    const complete = calls.find((c) => c.path.endsWith('/complete'))
    expect(complete?.path).toBe(`/v1/uploads/${RUN}/files/${FILE}/complete`)
    expect(complete?.body).toEqual({
      parts: [
        { part_number: 1, etag: '"etag-1"' },
        { part_number: 2, etag: '"etag-2"' },
        { part_number: 3, etag: '"etag-3"' },
      ],
    })
  })

  it('retries a failed part with a freshly signed URL', async () => {
    const { api: client, calls } = api()
    // part 2 loses its connection on the first attempt; the retry asks for a new URL
    const s3 = fakeS3((url, attempt) => {
      if (!url.includes('partNumber=2')) return null
      return attempt === 1 ? 0 : null
    })
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0, 0], logger: quietLogger })
    uploader.add(makeFile('big.bin', 10 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(2, 5 * MiB, [1, 2]) })
    expect((await run(uploader)).successful).toBe(1)
    const resign = calls.filter((c) => c.method === 'POST' && c.path.endsWith('/parts'))
    expect(resign.map((c) => c.body)).toEqual([{ part_numbers: [2] }])
    expect(s3.sent.map((p) => p.url)).toContain(partUrl(2, 2))
  })

  it('fails a file whose part keeps failing, and retry() continues from the parts the bucket holds', async () => {
    let broken = true
    const stored = [{ part_number: 1, etag: '"etag-1"', size: 5 * MiB }]
    const { api: client, calls } = api(stored)
    const s3 = fakeS3((url) => (broken && url.includes('partNumber=2') ? 500 : null))
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0], logger: quietLogger })
    const id = uploader.add(makeFile('big.bin', 10 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(2, 5 * MiB, [1, 2]) })
    const first = await run(uploader)
    expect(first.successful).toBe(0)
    expect(first.failed).toHaveLength(1)

    broken = false
    s3.sent.length = 0
    const [result] = await uploader.retry([id])
    expect(result?.successful).toHaveLength(1)
    expect(calls.some((c) => c.method === 'GET' && c.path.endsWith('/parts'))).toBe(true)
    expect(s3.sent.map((p) => new URL(p.url).searchParams.get('partNumber'))).toEqual(['2'])
  })

  it('resumes: asks the bucket which parts it has and sends only the others', async () => {
    const stored = [
      { part_number: 1, etag: '"stored-1"', size: 5 * MiB },
      { part_number: 2, etag: '"stored-2"', size: 5 * MiB },
    ]
    const { api: client, calls } = api(stored)
    const s3 = fakeS3()
    const found: number[] = []
    const uploader = new BucketUploader(client, {
      uploadPartBytes: s3.send,
      retryDelays: [0],
      logger: quietLogger,
      onPartsFound: (_id, parts) => found.push(...parts.map((p) => p.part_number)),
    })
    uploader.add(makeFile('big.bin', 12 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(3, 5 * MiB, []) }, true)
    expect((await run(uploader)).successful).toBe(1)
    expect(found).toEqual([1, 2])
    expect(s3.sent.map((p) => new URL(p.url).searchParams.get('partNumber'))).toEqual(['3'])
    const complete = calls.find((c) => c.path.endsWith('/complete'))
    expect(complete?.body).toEqual({
      parts: [
        { part_number: 1, etag: '"stored-1"' },
        { part_number: 2, etag: '"stored-2"' },
        { part_number: 3, etag: '"etag-3"' },
      ],
    })
  })

  it('resuming a file completed before the reload sends nothing', async () => {
    const { api: client, calls } = fakeApi({
      'GET /v1/uploads/:run/files/:file/parts': () => ({
        status: 409,
        body: { error: { code: 'upload_completed', message: 'the upload of file f is already completed' } },
      }),
    })
    const s3 = fakeS3()
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger })
    uploader.add(makeFile('big.bin', 12 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(3, 5 * MiB, []) }, true)
    expect((await run(uploader)).successful).toBe(1)
    expect(s3.sent).toEqual([])
    expect(calls.filter((c) => c.path.endsWith('/complete'))).toEqual([])
  })

  it("refuses a plan that does not match the file's size", () => {
    const { api: client } = api()
    const uploader = new BucketUploader(client)
    expect(() =>
      uploader.add(makeFile('big.bin', 12 * MiB), { runId: RUN, fileId: FILE, key: 'k', upload: multipart(5, 5 * MiB, []) }),
    ).toThrow(/5 parts of 5242880 bytes, which do not cover 12582912 bytes/)
  })

  it('a file changed on disk fails at once, not after every retry of a "lost connection"', async () => {
    const { api: client } = api()
    const s3 = fakeS3(() => 0) // Chrome fails the request of a changed file as a network error
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0, 0, 0], logger: quietLogger })
    const upload: SingleUpload = { method: 'PUT', url: 'http://s3.test/b/k', headers: {}, expires_at: expires() }
    const errors: unknown[] = []
    uploader.uppy.on('upload-error', (_file, error) => errors.push(error))
    uploader.add(changeOnDisk(makeFile('notes.txt', 10)), { runId: RUN, fileId: FILE, key: 'k', upload })
    expect((await run(uploader)).failed).toHaveLength(1)
    expect(errors).toEqual([expect.any(FileChanged)])

    // a readable file that meets the same network error is retried
    let attempts = 0
    const lost = fakeS3(() => (++attempts < 3 ? 0 : null))
    const again = new BucketUploader(client, { uploadPartBytes: lost.send, retryDelays: [0, 0, 0], logger: quietLogger })
    again.add(makeFile('notes.txt', 10), { runId: RUN, fileId: FILE, key: 'k', upload })
    expect((await run(again)).successful).toBe(1)
    expect(attempts).toBe(3)
  })

  it('retry() sends again only the files it is given', async () => {
    const { api: client } = api()
    let broken = true
    const s3 = fakeS3(() => (broken ? 400 : null))
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [], logger: quietLogger })
    const put = (name: string): SingleUpload => ({ method: 'PUT', url: `http://s3.test/b/${name}`, headers: {}, expires_at: expires() })
    const a = uploader.add(makeFile('a.txt', 10), { runId: RUN, fileId: 'fa', key: 'a', upload: put('a') })
    const b = uploader.add(makeFile('b.txt', 10), { runId: RUN, fileId: 'fb', key: 'b', upload: put('b') })
    expect((await run(uploader)).failed).toHaveLength(2)
    broken = false
    await uploader.retry([b])
    expect(s3.sent.map((p) => p.url)).toEqual(['http://s3.test/b/b'])
    expect(uploader.uppy.getFile(a).error).toBeTruthy()
    expect(uploader.uppy.getFile(b).progress.uploadComplete).toBe(true)
  })

  it('pauses one file and goes on with it; pauses and resumes all', async () => {
    const { api: client } = api()
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    const s3 = fakeS3()
    const held: Parameters<typeof retryingSend>[0] = async (options) => {
      await gate
      return s3.send(options)
    }
    const uploader = new BucketUploader(client, { uploadPartBytes: held, retryDelays: [0], logger: quietLogger })
    const upload: SingleUpload = { method: 'PUT', url: 'http://s3.test/b/k', headers: {}, expires_at: expires() }
    const id = uploader.add(makeFile('a.txt', 10), { runId: RUN, fileId: FILE, key: 'k', upload })
    const done = run(uploader)
    await new Promise((r) => setTimeout(r, 0))
    uploader.setPaused(id, true)
    expect(uploader.uppy.getFile(id).isPaused).toBe(true)
    uploader.setPaused(id, true) // already paused: stays paused
    expect(uploader.uppy.getFile(id).isPaused).toBe(true)
    uploader.setPaused(id, false)
    expect(uploader.uppy.getFile(id).isPaused).toBe(false)
    uploader.pauseAll()
    expect(uploader.uppy.getFile(id).isPaused).toBe(true)
    uploader.resumeAll()
    expect(uploader.uppy.getFile(id).isPaused).toBe(false)
    release()
    expect(await done).toEqual({ successful: 1, failed: [] })
  })

  it('a single PUT link that expired is reported, not sent', async () => {
    const { api: client } = api()
    const s3 = fakeS3()
    const uploader = new BucketUploader(client, { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger })
    const upload: SingleUpload = { method: 'PUT', url: 'http://s3.test/b/k', headers: {}, expires_at: '2020-01-01T00:00:00Z' }
    const id = uploader.add(makeFile('a.txt', 10), { runId: RUN, fileId: FILE, key: 'k', upload })
    const result = await run(uploader)
    expect(result.failed).toHaveLength(1)
    expect(uploader.uppy.getFile(id).error).toMatch(/expired/)
    expect(s3.sent).toEqual([])
  })
})

describe('upload helpers', () => {
  type SendOptions = Parameters<Parameters<typeof retryingSend>[0]>[0]

  it('retries a part with a fresh URL each time, a single PUT with its one URL', async () => {
    const urls: string[] = []
    const failing = (async (options: SendOptions) => {
      urls.push(options.signature.url)
      throw Object.assign(new Error('Non 2xx'), { source: { status: 503 } })
    }) as unknown as Parameters<typeof retryingSend>[0]
    let fresh = 0
    const send = retryingSend(failing, async (uploadId, n) => `http://s3/b/k?partNumber=${n}&uploadId=${uploadId}&v=${++fresh}`, [0, 0], async () => undefined)
    const base = { body: new Blob(['x']), onProgress: () => undefined, onComplete: () => undefined }
    await expect(send({ ...base, signature: { method: 'PUT', url: 'http://s3/b/k?partNumber=1&uploadId=u' } })).rejects.toThrow()
    expect(urls).toEqual([
      'http://s3/b/k?partNumber=1&uploadId=u',
      'http://s3/b/k?partNumber=1&uploadId=u&v=1',
      'http://s3/b/k?partNumber=1&uploadId=u&v=2',
    ])
    urls.length = 0
    await expect(send({ ...base, signature: { method: 'PUT', url: 'http://s3/b/k' } })).rejects.toThrow()
    expect(urls).toEqual(['http://s3/b/k', 'http://s3/b/k', 'http://s3/b/k'])
    expect(fresh).toBe(2)
  })

  it('sends nothing again that the rule does not retry (a 400, a 403), and retries a 408', async () => {
    for (const [status, attempts] of [
      [400, 1],
      [403, 1],
      [409, 1],
      [408, 3],
      [429, 3],
      [0, 3],
    ]) {
      let calls = 0
      const failing = (async () => {
        calls += 1
        throw Object.assign(new Error('Non 2xx'), { source: { status } })
      }) as unknown as Parameters<typeof retryingSend>[0]
      const send = retryingSend(failing, async () => 'http://s3/b/k?partNumber=1&uploadId=u', [0, 0], async () => undefined)
      const base = { body: new Blob(['x']), onProgress: () => undefined, onComplete: () => undefined }
      await expect(send({ ...base, signature: { method: 'PUT', url: 'http://s3/b/k' } })).rejects.toThrow()
      expect([status, calls]).toEqual([status, attempts])
    }
  })

  it('reads the part number and upload id of a part URL', () => {
    expect(partOfUrl('http://s3/b/k?uploadId=up-1&partNumber=7&X-Amz-Signature=x')).toEqual({ uploadId: 'up-1', partNumber: 7 })
    expect(partOfUrl('http://s3/b/k?X-Amz-Signature=x')).toBeNull()
  })

  it('describes failures for people', () => {
    expect(describeUploadError(new ApiError(409, 'run_not_pending', 'run x is cancelled'))).toBe('run x is cancelled')
    expect(describeUploadError(Object.assign(new Error('Unknown error'), { source: { status: 0 } }))).toMatch(/connection/)
    const refused = Object.assign(new Error('Non 2xx'), {
      source: { status: 403, responseText: '<Error><Message>Request has expired</Message></Error>' },
    })
    expect(describeUploadError(refused)).toBe('The bucket refused the upload (HTTP 403: Request has expired).')
    expect(statusOf(new Error('x'))).toBeNull()
  })
})
