import { describe, expect, it, vi } from 'vitest'
import { ApiError } from './api'
import { RETRY_DELAYS, backoffDelays, isRetryable, jitter, isRetryableStatus, retryQuery, sleep, statusOf, withRetry } from './retry'

const noWait = () => Promise.resolve()

describe('backoff', () => {
  it('doubles from the base after one immediate retry, up to the cap', () => {
    expect(backoffDelays(6, 1000, 5000)).toEqual([0, 1000, 2000, 4000, 5000, 5000])
    expect(RETRY_DELAYS).toEqual([0, 1000, 2000, 4000, 8000])
  })

  it('spreads each delay between its half and its whole', () => {
    expect(jitter(1000, () => 0)).toBe(500)
    expect(jitter(1000, () => 0.999)).toBeCloseTo(999.5)
    expect(jitter(0)).toBe(0)
  })

  it('knows which statuses are worth retrying', () => {
    for (const s of [0, 408, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(s)).toBe(true)
    for (const s of [200, 400, 401, 403, 404, 405, 409, 413, 422, 600]) expect(isRetryableStatus(s)).toBe(false)
  })
})

describe('the one retry rule', () => {
  const bucket = (status: number) => Object.assign(new Error('Non 2xx'), { source: { status } })

  it('retries network failures, 408, 429 and 5xx from the API', () => {
    expect(isRetryable(new ApiError(0, 'network_error', 'Cannot reach the Inlet API'))).toBe(true)
    expect(isRetryable(new ApiError(408, 'http_error', 'The API answered 408 Request Timeout'))).toBe(true)
    expect(isRetryable(new ApiError(429, 'http_error', 'The API answered 429 Too Many Requests'))).toBe(true)
    expect(isRetryable(new ApiError(503, 'unavailable', 'the database cannot be reached'))).toBe(true)
    expect(isRetryable(new ApiError(500, 'internal_error', 'an internal error occurred'))).toBe(true)
  })

  it('never retries another 4xx from the API, whatever its code', () => {
    for (const [status, code] of [
      [400, 'bad_request'],
      [401, 'unauthorized'],
      [404, 'not_found'],
      [409, 'run_not_pending'],
      [409, 'upload_completed'],
      [409, 'upload_gone'],
      [413, 'too_large'],
      [422, 'validation_error'],
    ] as const) {
      expect(isRetryable(new ApiError(status, code, 'no'))).toBe(false)
    }
  })

  it('applies the same rule to the bucket (Uppy errors carry source.status)', () => {
    expect(statusOf(bucket(503))).toBe(503)
    for (const s of [0, 408, 429, 500, 503]) expect(isRetryable(bucket(s))).toBe(true)
    for (const s of [400, 403, 404, 409, 412]) expect(isRetryable(bucket(s))).toBe(false)
  })

  it('does not retry aborts, or errors without an HTTP status', () => {
    expect(isRetryable(new DOMException('aborted', 'AbortError'))).toBe(false)
    expect(isRetryable(Object.assign(new Error('aborted'), { name: 'AbortError', status: 0 }))).toBe(false)
    expect(isRetryable(new Error('The upload link for this file expired'))).toBe(false)
    expect(isRetryable(new TypeError('x is undefined'))).toBe(false)
    expect(isRetryable(null)).toBe(false)
    expect(isRetryable('503')).toBe(false)
  })

  it("is the pages' query rule too, at most twice more", () => {
    const down = new ApiError(503, 'unavailable', 'down')
    expect(retryQuery(0, down)).toBe(true)
    expect(retryQuery(1, down)).toBe(true)
    expect(retryQuery(2, down)).toBe(false)
    expect(retryQuery(0, new ApiError(408, 'http_error', 'timeout'))).toBe(true)
    expect(retryQuery(0, new ApiError(404, 'not_found', 'run nope not found'))).toBe(false)
  })

  it('is what withRetry uses unless told otherwise', async () => {
    const refused = vi.fn().mockRejectedValue(new ApiError(409, 'run_not_pending', 'run r is cancelled'))
    await expect(withRetry(refused, { delays: [0, 0], wait: noWait })).rejects.toThrow('run r is cancelled')
    expect(refused).toHaveBeenCalledTimes(1)
    const flaky = vi.fn().mockRejectedValueOnce(new ApiError(0, 'network_error', 'offline')).mockResolvedValue('ok')
    expect(await withRetry(flaky, { delays: [0, 0], wait: noWait })).toBe('ok')
    expect(flaky).toHaveBeenCalledTimes(2)
  })
})

describe('withRetry', () => {
  it('retries transient failures with the delays in turn, then succeeds', async () => {
    const waits: number[] = []
    const fn = vi.fn().mockRejectedValueOnce(new Error('503')).mockRejectedValueOnce(new Error('503')).mockResolvedValue('ok')
    const result = await withRetry(fn, {
      delays: [0, 10, 20],
      shouldRetry: () => true,
      wait: async (ms) => void waits.push(ms),
    })
    expect(result).toBe('ok')
    expect(fn).toHaveBeenCalledTimes(3)
    expect(waits).toEqual([0, 10])
  })

  it('gives up after the last delay with the last error', async () => {
    const fn = vi.fn().mockRejectedValue(new Error('still down'))
    await expect(withRetry(fn, { delays: [0, 0], shouldRetry: () => true, wait: noWait })).rejects.toThrow('still down')
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('does not retry what shouldRetry refuses', async () => {
    const fn = vi.fn().mockRejectedValue(new Error('422'))
    const onRetry = vi.fn()
    await expect(withRetry(fn, { delays: [0, 0], shouldRetry: () => false, wait: noWait, onRetry })).rejects.toThrow('422')
    expect(fn).toHaveBeenCalledTimes(1)
    expect(onRetry).not.toHaveBeenCalled()
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    const fn = vi.fn().mockImplementation(async () => {
      controller.abort()
      throw new Error('boom')
    })
    await expect(withRetry(fn, { delays: [0, 0], shouldRetry: () => true, signal: controller.signal, wait: noWait })).rejects.toThrow('boom')
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('sleep can be aborted', async () => {
    const controller = new AbortController()
    const pending = sleep(60_000, controller.signal)
    controller.abort()
    await expect(pending).rejects.toBeDefined()
  })
})
