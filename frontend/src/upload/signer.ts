// Presigned part URLs, signed on demand in batches (POST /v1/uploads/{run}/files/{file}/parts).
//
// The create call hands out the first URLs. Every later part is signed when it is about to be
// sent, together with the next unsigned parts: SIGN_BATCH at a time, so a 1,000-part file costs
// 50 API calls, not 1,000. A URL is handed out once: a part sent again (a retry) gets a fresh
// URL. URLs close to expiry are never handed out. A signing request that fails is retried by the
// page's one rule (lib/retry.ts).

import { type Wait, withRetry } from '../lib/retry'
import type { SignedPart } from '../lib/types'

/**
 * Part URLs signed per request: the page's one batch size. The server takes up to the `maxItems`
 * of SignPartsRequest.part_numbers in docs/openapi.json (1,000); a test keeps this within it.
 */
export const SIGN_BATCH = 20

export type SignFn = (partNumbers: number[], signal?: AbortSignal) => Promise<SignedPart[]>

export interface SignerOptions {
  /** A URL expiring within this many milliseconds counts as expired. */
  marginMs?: number
  now?: () => number
  /** Delays between attempts of one signing request (lib/retry.ts's RETRY_DELAYS by default). */
  retryDelays?: readonly number[]
  wait?: Wait
}

export class PartSigner {
  readonly partCount: number
  readonly #sign: SignFn
  readonly #cache = new Map<number, SignedPart>()
  readonly #pending = new Map<number, Promise<void>>()
  readonly #options: SignerOptions
  readonly #marginMs: number
  readonly #now: () => number

  constructor(sign: SignFn, partCount: number, initial: SignedPart[] = [], options: SignerOptions = {}) {
    this.#sign = sign
    this.partCount = partCount
    this.#options = options
    this.#marginMs = options.marginMs ?? 60_000
    this.#now = options.now ?? Date.now
    for (const part of initial) this.#cache.set(part.part_number, part)
  }

  /** A fresh URL for `partNumber`; each call consumes it. */
  async url(partNumber: number, signal?: AbortSignal): Promise<string> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > this.partCount) {
      throw new RangeError(`part ${partNumber} is not between 1 and ${this.partCount}`)
    }
    for (let round = 0; round < 3; round++) {
      const cached = this.#take(partNumber)
      if (cached) return cached.url
      const pending = this.#pending.get(partNumber)
      if (pending) {
        await pending
        continue
      }
      await this.#fetchBatch(partNumber, signal)
    }
    throw new Error(`could not get a usable URL for part ${partNumber}`)
  }

  /** Parts whose URL is cached and still usable (for tests and diagnostics). */
  cachedParts(): number[] {
    return [...this.#cache.keys()].filter((n) => this.#usable(this.#cache.get(n)!)).sort((a, b) => a - b)
  }

  #usable(part: SignedPart): boolean {
    const expires = Date.parse(part.expires_at)
    return Number.isNaN(expires) || expires - this.#marginMs > this.#now()
  }

  #take(partNumber: number): SignedPart | undefined {
    const part = this.#cache.get(partNumber)
    if (!part) return undefined
    this.#cache.delete(partNumber)
    return this.#usable(part) ? part : undefined
  }

  #batchFrom(partNumber: number): number[] {
    const batch = [partNumber]
    for (let n = partNumber + 1; n <= this.partCount && batch.length < SIGN_BATCH; n++) {
      const cached = this.#cache.get(n)
      if (this.#pending.has(n) || (cached && this.#usable(cached))) continue
      batch.push(n)
    }
    return batch
  }

  #fetchBatch(partNumber: number, signal?: AbortSignal): Promise<void> {
    const numbers = this.#batchFrom(partNumber)
    const { retryDelays, wait } = this.#options
    const request = withRetry(() => this.#sign(numbers, signal), { delays: retryDelays, signal, wait }).then((parts) => {
      for (const part of parts) this.#cache.set(part.part_number, part)
    })
    const settled = request.finally(() => {
      for (const n of numbers) if (this.#pending.get(n) === settled) this.#pending.delete(n)
    })
    for (const n of numbers) this.#pending.set(n, settled)
    return settled
  }
}
