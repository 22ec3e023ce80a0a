// A SessionView for page tests: a snapshot the test sets, and commands that only record their calls.
import { vi } from 'vitest'
import type { EntryView, SessionView, Snapshot, UnfinishedRun } from '../../upload/snapshot'

export function makeEntry(overrides: Partial<EntryView> = {}): EntryView {
  return {
    id: 'e1',
    name: 'a.bin',
    size: 1_000,
    contentType: 'application/octet-stream',
    hashState: 'done',
    hashFraction: 1,
    sha256: 'ab'.repeat(32),
    status: 'selected',
    uploaded: 0,
    fraction: 0,
    speed: null,
    eta: null,
    error: null,
    problem: null,
    changed: false,
    fileId: null,
    method: null,
    partCount: null,
    ...overrides,
  }
}

export function makeUnfinished(overrides: Partial<UnfinishedRun> = {}): UnfinishedRun {
  const file = (name: string, size: number, done: boolean) => ({
    fileId: `id-${name}`,
    name,
    size,
    lastModified: 1_700_000_000_000,
    contentType: 'application/octet-stream',
    sha256: '',
    key: `runs/r/${name}`,
    upload: { method: 'PUT' as const, url: 'http://s3.test/b', headers: {}, expires_at: '2026-11-27T11:00:00Z' },
    done,
  })
  const files = [file('a.bin', 10_000_000, true), file('b.bin', 60_000_000, false), file('c.bin', 80_000_000, false)]
  return {
    runId: 'aaaaaaaa-0000-0000-0000-000000000001',
    type: 'app_bundle',
    label: 'nightly',
    savedAt: '2026-11-27T10:00:00Z',
    files,
    remaining: files.filter((f) => !f.done),
    ...overrides,
  }
}

const idleSnapshot: Snapshot = {
  phase: 'idle',
  entries: [],
  run: null,
  error: null,
  notice: null,
  overall: { total: 0, done: 0, fraction: 0, speed: null, eta: null, stalled: false },
  hashing: { total: 0, done: 0, fraction: 0, speed: null, eta: null },
  rules: { max_file_size: 5_000_000_000, max_files_per_run: 100, multipart_threshold: 16 * 1024 * 1024 },
  problems: [],
  unfinished: [],
  offer: null,
  online: true,
  paused: false,
}

const BUSY: Snapshot['phase'][] = ['hashing', 'creating', 'uploading', 'cancelling']

export type FakeSession = SessionView & {
  /** Change the snapshot and tell the page. */
  set: (change: Partial<Snapshot>) => void
}

export function fakeSession(initial: Partial<Snapshot> = {}): FakeSession {
  let snap: Snapshot = { ...idleSnapshot, ...initial }
  const listeners = new Set<() => void>()
  const set = (change: Partial<Snapshot>) => {
    snap = { ...snap, ...change }
    for (const listener of listeners) listener()
  }
  const done = () => vi.fn(async () => undefined)
  return {
    set,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    getSnapshot: () => snap,
    get busy() {
      return BUSY.includes(snap.phase)
    },
    addFiles: vi.fn(),
    removeFile: vi.fn(),
    replaceFile: vi.fn(),
    removeRefused: vi.fn(),
    start: done(),
    cancel: done(),
    retry: done(),
    retryFile: done(),
    pauseAll: vi.fn(),
    resumeAll: vi.fn(),
    pauseFile: vi.fn(),
    resumeFile: vi.fn(),
    // as the session does: back to an empty idle page (the unfinished runs stay)
    reset: vi.fn(() => set({ ...idleSnapshot, unfinished: snap.unfinished })),
    dismissError: vi.fn(() => set({ error: null })),
    resumeWith: done(),
    discard: done(),
    acceptOffer: done(),
    declineOffer: vi.fn(),
    refreshUnfinished: done(),
  }
}
