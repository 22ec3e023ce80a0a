// Progress math: fractions, transfer speed over a sliding window, and time left.

export interface Sample {
  at: number
  bytes: number
}

/**
 * Speed from the bytes transferred during the last `windowMs`. Bytes that were never sent by
 * this page (parts the bucket already held when an upload resumed) are `discount`ed, so a
 * resume does not look like a burst of infinite speed.
 */
export class SpeedMeter {
  readonly #windowMs: number
  readonly #now: () => number
  #samples: Sample[] = []
  #offset = 0

  constructor(windowMs = 5000, now: () => number = () => performance.now()) {
    this.#windowMs = windowMs
    this.#now = now
  }

  /** Record the running total of bytes done. A smaller total (a file paused and sent again from
   *  its start, a part lost with the connection) starts the measurement over. */
  update(totalBytes: number): void {
    const at = this.#now()
    const bytes = totalBytes - this.#offset
    const last = this.#samples[this.#samples.length - 1]
    if (last && bytes < last.bytes) this.#samples = []
    this.#samples.push({ at, bytes })
    const cutoff = at - this.#windowMs
    // keep one sample older than the window so the window is always spanned
    while (this.#samples.length > 2 && this.#samples[1].at <= cutoff) this.#samples.shift()
  }

  /**
   * The next totals will include `bytes` that were not transferred now (parts the bucket already
   * held when an upload resumed): leave them out of the speed.
   */
  discount(bytes: number): void {
    this.#offset += bytes
  }

  /** Bytes per second, or null until there is enough to tell. */
  speed(): number | null {
    if (this.#samples.length < 2) return null
    const first = this.#samples[0]
    const last = this.#samples[this.#samples.length - 1]
    const elapsed = (last.at - first.at) / 1000
    if (elapsed < 0.25) return null
    return Math.max(0, (last.bytes - first.bytes) / elapsed)
  }

  reset(): void {
    this.#samples = []
    this.#offset = 0
  }
}

/** Seconds left at `bytesPerSecond`, or null when the speed is unknown or zero. */
export function timeLeft(remainingBytes: number, bytesPerSecond: number | null): number | null {
  if (remainingBytes <= 0) return 0
  if (bytesPerSecond === null || bytesPerSecond <= 0) return null
  return remainingBytes / bytesPerSecond
}

/** 0..1, with an empty total counting as done. */
export function fraction(done: number, total: number): number {
  if (total <= 0) return 1
  return Math.min(1, Math.max(0, done / total))
}

export interface Totals {
  total: number
  done: number
  fraction: number
}

/** Overall progress of several files (each counted by its bytes, not equally). */
export function combine(files: Iterable<{ size: number; done: number }>): Totals {
  let total = 0
  let done = 0
  for (const f of files) {
    total += f.size
    done += Math.min(f.size, Math.max(0, f.done))
  }
  return { total, done, fraction: fraction(done, total) }
}

export function percent(value: number): number {
  return Math.floor(value * 1000) / 10
}
