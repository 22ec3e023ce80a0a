// A small external store: React subscribes to its snapshots (useSyncExternalStore), tests read
// them directly. `emit` rebuilds the snapshot now; `emitSoon` at most once per `throttleMs`, for
// progress events that come many times a second.

export class SnapshotStore<T> {
  readonly #build: () => T
  readonly #throttleMs: number
  readonly #listeners = new Set<() => void>()
  #snapshot: T
  #timer: ReturnType<typeof setTimeout> | null = null

  constructor(build: () => T, throttleMs = 100) {
    this.#build = build
    this.#throttleMs = throttleMs
    this.#snapshot = build()
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  getSnapshot = (): T => this.#snapshot

  emit(): void {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    this.#snapshot = this.#build()
    for (const listener of this.#listeners) listener()
  }

  emitSoon(): void {
    if (this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.emit()
    }, this.#throttleMs)
  }

  destroy(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#listeners.clear()
  }
}
