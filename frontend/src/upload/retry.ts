// Retrying with exponential backoff: for API calls made during an upload and for single PUTs.
// (Uppy retries multipart parts itself with the same delays, asking for a fresh URL each time.)

/** 0, base, 2·base, 4·base, … capped at `cap`: `attempts` delays in milliseconds. */
export function backoffDelays(attempts: number, base = 1000, cap = 15_000): number[] {
  return Array.from({ length: attempts }, (_, i) => (i === 0 ? 0 : Math.min(cap, base * 2 ** (i - 1))))
}

/** One immediate retry, then 1 s, 2 s, 4 s, 8 s: about 15 s of trying before giving up. */
export const RETRY_DELAYS = backoffDelays(5)

/** HTTP statuses worth retrying: no answer at all (0), timeouts, rate limits, server errors. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'))
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason ?? new DOMException('Aborted', 'AbortError'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions {
  /** Delay before each retry; its length is the number of retries. */
  delays?: readonly number[]
  shouldRetry: (error: unknown, attempt: number) => boolean
  signal?: AbortSignal
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Run `fn` until it succeeds, retrying errors `shouldRetry` accepts after each delay in turn. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const delays = options.delays ?? RETRY_DELAYS
  const wait = options.wait ?? sleep
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (options.signal?.aborted || attempt >= delays.length || !options.shouldRetry(error, attempt)) {
        throw error
      }
      const delay = delays[attempt]
      options.onRetry?.(error, attempt + 1, delay)
      await wait(delay, options.signal)
    }
  }
}
