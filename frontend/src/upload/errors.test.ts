import { describe, expect, it } from 'vitest'
import { ApiClient, ApiError, parseRetryAfter } from '../lib/api'
import { isRetryable } from '../lib/retry'
import { API } from '../test/fakes'
import { FileChanged, changedText, fileRefusals, inWords, isFileChanged, refusedView, retryText, toErrorView, unreadable } from './errors'
import { changeOnDisk, makeFile } from '../test/fakes'

const QUOTA_MESSAGE =
  "quota exceeded for owner 'alice': 20 runs are pending, the limit is 20 (INLET_QUOTA_PENDING_RUNS); " +
  'wait for uploads to finish, or cancel some; nothing was created, try again in 60 s'

function refusing(headers: Record<string, string>, details: { field: string; message: string }[] = []): ApiClient {
  const body = { error: { code: 'quota_exceeded', message: QUOTA_MESSAGE, details } }
  return new ApiClient(API, (async () =>
    new Response(JSON.stringify(body), {
      status: 429,
      headers: { 'Content-Type': 'application/json', ...headers },
    })) as typeof fetch)
}

describe('429 quota_exceeded', () => {
  it('reads Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-11-30T12:00:00Z')
    expect(parseRetryAfter('42', now)).toBe(42)
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', now)).toBe(30)
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null, now)).toBeNull()
    expect(parseRetryAfter('soon', now)).toBeNull()
  })

  it('keeps the code and the Retry-After of the answer', async () => {
    const error = await refusing({ 'Retry-After': '42' })
      .createUpload({ type: 'app_bundle', label: null, notes: null, files: [] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 429, code: 'quota_exceeded', retryAfter: 42 })
    expect(isRetryable(error)).toBe(true)
  })

  it('says in words what happened and when to try again', async () => {
    const now = new Date('2026-11-30T12:00:00Z')
    const error = await refusing({ 'Retry-After': '42' }, [
      { field: 'pending_runs', message: '20 runs are pending, the limit is 20 (INLET_QUOTA_PENDING_RUNS)' },
    ])
      .limits()
      .catch((e: unknown) => e)
    const view = toErrorView(error, now)
    expect(view.title).toBe('Too many uploads for now')
    expect(view.message).toBe(QUOTA_MESSAGE)
    expect(view.details).toEqual([retryText(42, now)])
    expect(view.details[0]).toMatch(/^Try again at .+ \(in 42 s\)\.$/)
  })

  it('names every limit when several are full', () => {
    const error = new ApiError(429, 'quota_exceeded', QUOTA_MESSAGE, [
      { field: 'pending_runs', message: '20 runs are pending' },
      { field: 'runs_per_minute', message: '60 runs were created in the last 60 s' },
    ], 5)
    expect(toErrorView(error).details.slice(0, 2)).toEqual(['20 runs are pending', '60 runs were created in the last 60 s'])
  })

  it('still says something useful when the browser hides Retry-After', async () => {
    const error = await refusing({}).limits().catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 429, retryAfter: null })
    const view = toErrorView(error)
    expect(view.message).toContain('try again in 60 s')
    expect(view.details).toEqual([retryText(null)])
    expect(view.details[0]).toMatch(/^Try again later/)
  })
})

describe('refusals in words', () => {
  it("says a validator's detail as a sentence that names no field path", () => {
    expect(inWords('files[3].name', 'Value error, name contains U+202E RIGHT-TO-LEFT OVERRIDE')).toBe(
      'The name contains U+202E RIGHT-TO-LEFT OVERRIDE.',
    )
    expect(inWords('body.files[0].name', 'String should have at most 255 characters')).toBe('The name should have at most 255 characters.')
    expect(inWords('files[1].size', 'larger than the maximum file size')).toBe('The size is larger than the maximum file size.')
    expect(inWords('files[1].size', 'Field required')).toBe('The size is required.')
    expect(inWords('files[2].sha256', 'Value error, sha256 must be 64 hexadecimal characters')).toBe(
      'The checksum must be 64 hexadecimal characters.',
    )
    expect(inWords('label', 'Value error, label contains U+001B ESCAPE')).toBe('The label contains U+001B ESCAPE.')
    expect(inWords(null, 'something went wrong.')).toBe('Something went wrong.')
  })

  it("maps a 422's details to the files they name, and says the rest once, in words", () => {
    const error = new ApiError(
      422,
      'validation_error',
      'invalid request: files[0].name: Value error, name contains U+202E RIGHT-TO-LEFT OVERRIDE; body.files[2].size: Input should be a valid integer',
      [
        { field: 'files[0].name', message: 'Value error, name contains U+202E RIGHT-TO-LEFT OVERRIDE' },
        { field: 'body.files[2].size', message: 'Input should be a valid integer' },
        { field: 'label', message: 'Value error, label contains U+001B ESCAPE' },
      ],
    )
    const refusals = fileRefusals(error)!
    expect([...refusals.files]).toEqual([
      [0, 'The API refused this file: the name contains U+202E RIGHT-TO-LEFT OVERRIDE.'],
      [2, 'The API refused this file: the size should be a valid integer.'],
    ])
    expect(refusedView(refusals)).toEqual({
      title: 'The API refused this upload',
      message: '2 files were refused: see the list.',
      details: ['The label contains U+001B ESCAPE.'],
    })
    expect(fileRefusals(new ApiError(413, 'too_large', '101 files in one run; the limit is 100'))).toBeNull()
    expect(fileRefusals(new Error('x'))).toBeNull()
  })

  it("never shows a validator's summary and its details twice", () => {
    const error = new ApiError(422, 'validation_error', 'invalid request: label: Value error, label contains U+001B ESCAPE', [
      { field: 'label', message: 'Value error, label contains U+001B ESCAPE' },
    ])
    expect(toErrorView(error)).toEqual({ title: 'The API refused this upload', message: 'The label contains U+001B ESCAPE.', details: [] })
    const unknownType = new ApiError(422, 'validation_error', "unknown run type 'x'; expected one of: a, b", [])
    expect(toErrorView(unknownType).message).toBe("unknown run type 'x'; expected one of: a, b")
    const lone = new ApiError(409, 'run_not_pending', 'run r is stored', [{ field: 'run', message: 'is stored' }])
    expect(toErrorView(lone)).toEqual({ title: 'The API refused this upload', message: 'run r is stored', details: [] })
  })
})

describe('a file that changed after it was chosen', () => {
  it("is told from a lost connection by reading a byte of it", async () => {
    expect(await unreadable(makeFile('a.bin', 10))).toBe(false)
    expect(await unreadable(changeOnDisk(makeFile('a.bin', 10)))).toBe(true)
    expect(await unreadable(changeOnDisk(makeFile('a.bin', 10)).slice(0, 5))).toBe(true)
  })

  it("is recognised by Chrome's error and by ours, and says what to do", () => {
    expect(isFileChanged(new DOMException('could not be read', 'NotReadableError'))).toBe(true)
    expect(isFileChanged(new FileChanged())).toBe(true)
    expect(isFileChanged(Object.assign(new Error('x'), { source: { status: 0 } }))).toBe(false)
    expect(changedText('notes 📝.txt')).toBe(
      '«notes 📝.txt» changed after it was chosen (it was modified or moved); choose it again to upload the new version.',
    )
  })
})
