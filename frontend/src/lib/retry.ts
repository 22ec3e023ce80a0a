// The page's one rule for "should this be tried again?", and the backoff that goes with it.
// Every caller uses it: API calls made during an upload, the part signer, the bytes sent to the
// bucket (single PUTs and multipart parts, through Uppy), and the pages' queries. It is the rule
// of docs/contract.md ("Retries"), which the `inlet` client follows too.
//
// Retried: no answer at all (a network failure, status 0), 408 Request Timeout, 429 Too Many
// Requests and every 5xx. Never retried: any other 4xx (asking again gets the same answer), an
// aborted request, and errors that carry no HTTP status (a bug, an expired upload link).

/** HTTP statuses worth retrying: 0 (no answer: the network failed), 408, 429 and 500–599. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || (status >= 500 && status <= 599)
}

/**
 * The HTTP status an error carries, or null: `status` on an ApiError (0 when the API could not be
 * reached), `source.status` on the errors Uppy's XMLHttpRequest sender throws (0 when the
 * connection was lost).
 */
export function statusOf(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null
  const own = (error as { status?: unknown }).status
  if (typeof own === 'number') return own
  const source = (error as { source?: { status?: unknown } | null }).source
  return typeof source?.status === 'number' ? source.status : null
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError'
}

/** The rule: retry network failures, 408, 429 and 5xx; nothing else. */
export function isRetryable(error: unknown): boolean {
  if (isAbort(error)) return false
  const status = statusOf(error)
  return status !== null && isRetryableStatus(status)
}

/** 0, base, 2·base, 4·base, … capped at `cap`: `attempts` delays in milliseconds. */
export function backoffDelays(attempts: number, base = 1000, cap = 15_000): number[] {
  return Array.from({ length: attempts }, (_, i) => (i === 0 ? 0 : Math.min(cap, base * 2 ** (i - 1))))
}

/** One immediate retry, then 1 s, 2 s, 4 s, 8 s: about 15 s of trying before giving up. */
export const RETRY_DELAYS = backoffDelays(5)

/** Half the delay, plus up to the other half at random, so clients that failed together spread out. */
export function jitter(ms: number, random: () => number = Math.random): number {
  return ms / 2 + (ms / 2) * random()
}

/** How often a page's query is tried again (React Query), for the errors the rule retries. */
export const QUERY_RETRIES = 2

/** React Query's `retry` option: the same rule, at most QUERY_RETRIES more times. */
export function retryQuery(failureCount: number, error: unknown): boolean {
  return failureCount < QUERY_RETRIES && isRetryable(error)
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

export type Wait = (ms: number, signal?: AbortSignal) => Promise<void>

export interface RetryOptions {
  /** Delay before each retry (jittered by the default wait); its length is the number of retries. */
  delays?: readonly number[]
  /** Which errors are retried: the rule above unless a test says otherwise. */
  shouldRetry?: (error: unknown, attempt: number) => boolean
  signal?: AbortSignal
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  wait?: Wait
}

/** Run `fn` until it succeeds, retrying the errors `shouldRetry` accepts after each delay in turn. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const delays = options.delays ?? RETRY_DELAYS
  const wait = options.wait ?? ((ms: number, signal?: AbortSignal) => sleep(jitter(ms), signal))
  const shouldRetry = options.shouldRetry ?? isRetryable
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (options.signal?.aborted || attempt >= delays.length || !shouldRetry(error, attempt)) {
        throw error
      }
      const delay = delays[attempt]
      options.onRetry?.(error, attempt + 1, delay)
      await wait(delay, options.signal)
    }
  }
}
