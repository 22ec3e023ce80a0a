// Whether the page can reach anything: the browser's own online flag, and whether the API
// answered the last request (ApiClient reports each one). The shell's banner and the upload
// session (it pauses while offline) read it; while the API does not answer, the shell probes it
// (probeWhileUnreachable) so the page notices by itself when it is back.
import { useSyncExternalStore } from 'react'

export type Connectivity = 'online' | 'offline' | 'unreachable'

export class Network {
  readonly #listeners = new Set<() => void>()
  #online: boolean
  #apiReachable = true

  constructor(target: Pick<Window, 'addEventListener'> | null = typeof window === 'undefined' ? null : window) {
    this.#online = typeof navigator === 'undefined' ? true : navigator.onLine
    target?.addEventListener('online', () => this.setOnline(true))
    target?.addEventListener('offline', () => this.setOnline(false))
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  getSnapshot = (): Connectivity => (!this.#online ? 'offline' : this.#apiReachable ? 'online' : 'unreachable')

  get online(): boolean {
    return this.#online
  }

  setOnline(online: boolean): void {
    if (online === this.#online) return
    this.#online = online
    this.#notify()
  }

  /** The API answered (any status): it is reachable. */
  apiAnswered(): void {
    if (this.#apiReachable) return
    this.#apiReachable = true
    this.#notify()
  }

  /** A request to the API got no answer at all. */
  apiFailed(): void {
    if (!this.#apiReachable) return
    this.#apiReachable = false
    this.#notify()
  }

  #notify(): void {
    for (const listener of this.#listeners) listener()
  }
}

/** The page's one Network. */
export const network = new Network()

export function useConnectivity(net: Network = network): Connectivity {
  return useSyncExternalStore(net.subscribe, net.getSnapshot, net.getSnapshot)
}

/** Waits before each probe of an unreachable API: 5 s, then longer, at most 30 s. */
export const PROBE_DELAYS: readonly number[] = [5_000, 10_000, 20_000, 30_000]

/**
 * While the API is unreachable (and the browser online), calls `probe` (a request through the
 * ApiClient that reports to `net`) after each delay in turn, the last one repeating: its answer
 * makes the API reachable again, which ends the probing. Returns the function that stops it.
 */
export function probeWhileUnreachable(
  net: Network,
  probe: () => Promise<unknown>,
  delays: readonly number[] = PROBE_DELAYS,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt = 0
  let probing = false
  let stopped = false
  const schedule = () => {
    clearTimeout(timer)
    timer = undefined
    if (stopped) return
    if (net.getSnapshot() !== 'unreachable') {
      attempt = 0
      return
    }
    if (!probing) timer = setTimeout(run, delays[Math.min(attempt, delays.length - 1)])
  }
  const run = () => {
    probing = true
    attempt += 1
    probe()
      .catch(() => undefined) // the ApiClient told `net` already
      .finally(() => {
        probing = false
        schedule()
      })
  }
  const unsubscribe = net.subscribe(schedule)
  schedule()
  return () => {
    stopped = true
    unsubscribe()
    clearTimeout(timer)
  }
}
