import { describe, expect, it } from 'vitest'
import { ApiClient, ApiError, parseRetryAfter } from '../lib/api'
import { isRetryable } from '../lib/retry'
import { API } from '../test/fakes'
import { retryText, toErrorView } from './errors'

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
