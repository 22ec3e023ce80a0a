// What a page needs to resume an upload after a reload: the run, its files and their uploads,
// kept in localStorage. Browsers do not let a page reopen a file after a reload, so the person
// picks the same files again; they are matched by name, size and modification time.

import type { Upload } from '../lib/types'

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
