// Resuming an upload after a reload. What the page needs for it (the run, its files and their
// uploads) is kept in localStorage while the run uploads. Browsers do not let a page reopen a
// file after a reload, so the person picks the same files again; they are matched by name, size
// and modification time, and only what the bucket does not hold yet is sent.

import type { RunDetail, RunOut, Upload, UploadFileOut } from '../lib/types'
import { type Entry, resumedEntry } from './entries'
import type { ErrorView } from './errors'

export const RESUME_KEY = 'inlet.upload.v1'

export interface ResumeFile {
  fileId: string
  name: string
  size: number
  lastModified: number
  contentType: string
  sha256: string
  key: string
  upload: Upload
  /** The bytes are all in the bucket (single PUT done, or multipart completed). */
  done: boolean
}

export interface ResumeRecord {
  version: 1
  apiUrl: string
  runId: string
  type: string
  label: string | null
  savedAt: string
  files: ResumeFile[]
}

export class ResumeStore {
  readonly #storage: Storage | null
  readonly #key: string

  constructor(storage: Storage | null = safeLocalStorage(), key = RESUME_KEY) {
    this.#storage = storage
    this.#key = key
  }

  load(apiUrl?: string): ResumeRecord | null {
    const raw = this.#storage?.getItem(this.#key)
    if (!raw) return null
    try {
      const record = JSON.parse(raw) as ResumeRecord
      if (record.version !== 1 || typeof record.runId !== 'string' || !Array.isArray(record.files)) return null
      if (apiUrl && record.apiUrl !== apiUrl) return null
      return record
    } catch {
      return null
    }
  }

  save(record: ResumeRecord): void {
    try {
      this.#storage?.setItem(this.#key, JSON.stringify({ ...record, savedAt: new Date().toISOString() }))
    } catch {
      // storage full or disabled: the upload still works, it just cannot resume after a reload
    }
  }

  markDone(fileId: string): void {
    const record = this.load()
    if (!record) return
    const files = record.files.map((f) => (f.fileId === fileId ? { ...f, done: true } : f))
    this.save({ ...record, files })
  }

  clear(): void {
    this.#storage?.removeItem(this.#key)
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

export interface MatchResult {
  /** fileId -> the chosen File */
  matched: Map<string, File>
  /** Files of the record still to upload that were not chosen. */
  missing: ResumeFile[]
  /** Chosen files with the right name and size but another modification time. */
  changed: ResumeFile[]
}

/** Pair the record's unfinished files with files the person chose again. */
export function matchFiles(record: ResumeRecord, chosen: Iterable<File>): MatchResult {
  const pool = [...chosen]
  const matched = new Map<string, File>()
  const missing: ResumeFile[] = []
  const changed: ResumeFile[] = []
  for (const want of record.files) {
    if (want.done) continue
    const index = pool.findIndex(
      (f) => f.name === want.name && f.size === want.size && f.lastModified === want.lastModified,
    )
    if (index >= 0) {
      matched.set(want.fileId, pool[index])
      pool.splice(index, 1)
    } else if (pool.some((f) => f.name === want.name && f.size === want.size)) {
      changed.push(want)
    } else {
      missing.push(want)
    }
  }
  return { matched, missing, changed }
}

/** Bytes still to send, for the resume banner. */
export function remainingFiles(record: ResumeRecord): ResumeFile[] {
  return record.files.filter((f) => !f.done)
}

/** What to keep for the run just created, so a reload can resume it. */
export function recordFor(apiUrl: string, run: RunOut, pairs: [Entry, UploadFileOut][]): ResumeRecord {
  return {
    version: 1,
    apiUrl,
    runId: run.id,
    type: run.type,
    label: run.label,
    savedAt: new Date().toISOString(),
    files: pairs.map(([entry, file]) => ({
      fileId: file.id,
      name: entry.name,
      size: entry.size,
      lastModified: entry.lastModified,
      contentType: entry.contentType,
      sha256: entry.sha256 ?? '',
      key: file.key,
      upload: file.upload,
      done: false,
    })),
  }
}

/** Why the chosen files cannot resume the record yet, or null when they can. */
export function resumeProblem({ missing, changed }: MatchResult): ErrorView | null {
  if (!changed.length && !missing.length) return null
  const names = (list: ResumeFile[]) => list.map((f) => f.name).join(', ')
  return {
    title: 'Cannot resume yet',
    message: changed.length
      ? `These files changed since the upload started: ${names(changed)}. Discard the interrupted upload and start again.`
      : `To resume, choose the same files again: ${names(missing)}.`,
    details: [],
  }
}

/** The entries of the resumed run: the files in the bucket already are done, the others queued. */
export function resumedEntries(record: ResumeRecord, run: RunDetail, matched: Map<string, File>): Entry[] {
  const finished = new Set(run.files.filter((f) => f.status !== 'pending').map((f) => f.id))
  return record.files.map((rf) =>
    resumedEntry(
      {
        ...rf,
        done: rf.done || finished.has(rf.fileId),
        target: { runId: record.runId, fileId: rf.fileId, key: rf.key, upload: rf.upload },
      },
      matched.get(rf.fileId) ?? null,
    ),
  )
}
