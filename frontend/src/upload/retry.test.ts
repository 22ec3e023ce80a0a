import { describe, expect, it, vi } from 'vitest'
import { RETRY_DELAYS, backoffDelays, isTransientStatus, sleep, withRetry } from './retry'

const noWait = () => Promise.resolve()

describe('backoff', () => {
  it('doubles from the base after one immediate retry, up to the cap', () => {
    expect(backoffDelays(6, 1000, 5000)).toEqual([0, 1000, 2000, 4000, 5000, 5000])
    expect(RETRY_DELAYS).toEqual([0, 1000, 2000, 4000, 8000])
  })

  it('knows which statuses are worth retrying', () => {
    for (const s of [0, 408, 429, 500, 502, 503, 504]) expect(isTransientStatus(s)).toBe(true)
    for (const s of [200, 400, 403, 404, 409, 413, 422]) expect(isTransientStatus(s)).toBe(false)
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
