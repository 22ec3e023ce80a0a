// Unfinished runs: what the page needs to go on with a run whose upload did not finish (a reload,
// a closed tab, a crash): the run, its files and their uploads, kept in localStorage, one record
// per run this browser started, per API. Browsers do not let a page reopen a file after a reload,
// so the person picks the same files again; they are matched by name and size (a file modified
// since is refused), and only what the bucket does not hold yet is sent.

import type { RunDetail, RunOut, Upload, UploadFileOut } from '../lib/types'
import { type Entry, resumedEntry } from './entries'
import type { ErrorView, ResumeOffer, UnfinishedRun } from './snapshot'

export const RESUME_KEY = 'inlet.uploads.v2'
/** Where the page kept its one record before it kept a list. */
export const OLD_RESUME_KEY = 'inlet.upload.v1'

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
  /** The API base URL the run was created with. */
  apiUrl: string
  runId: string
  type: string
  label: string | null
  savedAt: string
  files: ResumeFile[]
}

function isRecord(value: unknown): value is ResumeRecord {
  const r = value as Partial<ResumeRecord> | null
  return typeof r?.runId === 'string' && typeof r.apiUrl === 'string' && Array.isArray(r.files)
}

export class ResumeStore {
  readonly #storage: Storage | null
  readonly #key: string

  constructor(storage: Storage | null = safeLocalStorage(), key = RESUME_KEY) {
    this.#storage = storage
    this.#key = key
  }

  /** The unfinished runs of the API at `apiUrl`, newest first. */
  list(apiUrl: string): ResumeRecord[] {
    return this.#read()
      .filter((r) => r.apiUrl === apiUrl)
      .sort((a, b) => b.savedAt.localeCompare(a.savedAt))
  }

  get(apiUrl: string, runId: string): ResumeRecord | null {
    return this.#read().find((r) => r.apiUrl === apiUrl && r.runId === runId) ?? null
  }

  /** Keep `record` (in place of an older one of the same run). */
  save(record: ResumeRecord): void {
    this.#write([...this.#read().filter((r) => !same(r, record)), record])
  }

  forget(apiUrl: string, runId: string): void {
    const records = this.#read()
    const kept = records.filter((r) => !same(r, { apiUrl, runId }))
    if (kept.length !== records.length) this.#write(kept)
  }

  #read(): ResumeRecord[] {
    if (!this.#storage) return []
    const records = parse(this.#storage.getItem(this.#key))
    const old = this.#storage.getItem(OLD_RESUME_KEY)
    if (old === null) return Array.isArray(records) ? records.filter(isRecord) : []
    // Once: the record the page kept before it kept a list joins the list.
    const list = Array.isArray(records) ? records.filter(isRecord) : []
    const record = parse(old)
    if (isRecord(record) && !list.some((r) => same(r, record))) {
      const { version: _version, ...kept } = record as ResumeRecord & { version?: number }
      list.push(kept)
    }
    this.#write(list)
    this.#storage.removeItem(OLD_RESUME_KEY)
    return list
  }

  #write(records: ResumeRecord[]): void {
    try {
      if (records.length) this.#storage?.setItem(this.#key, JSON.stringify(records))
      else this.#storage?.removeItem(this.#key)
    } catch {
      // storage full or disabled: the upload still works, it just cannot resume after a reload
    }
  }
}

function same(a: Pick<ResumeRecord, 'apiUrl' | 'runId'>, b: Pick<ResumeRecord, 'apiUrl' | 'runId'>): boolean {
  return a.apiUrl === b.apiUrl && a.runId === b.runId
}

function parse(text: string | null): unknown {
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

/** What the page shows of an unfinished run. */
export function unfinishedRun(record: ResumeRecord): UnfinishedRun {
  const { runId, type, label, savedAt, files } = record
  return { runId, type, label, savedAt, files, remaining: files.filter((f) => !f.done) }
}

/** A file chosen again, under the name the run records. */
export interface Picked {
  file: File
  name: string
}

const nameAndSize = (name: string, size: number) => `${size}|${name}`

/**
 * The newest unfinished run among whose remaining files are all the `picked` ones (by name and
 * size): the person dropped its files again, and most likely means to resume it.
 */
export function offerFor(runs: UnfinishedRun[], picked: { name: string; size: number }[]): ResumeOffer | null {
  if (!picked.length) return null
  for (const run of runs) {
    const left = new Map<string, number>()
    for (const f of run.remaining) {
      const key = nameAndSize(f.name, f.size)
      left.set(key, (left.get(key) ?? 0) + 1)
    }
    const all = picked.every((p) => {
      const key = nameAndSize(p.name, p.size)
      const n = left.get(key) ?? 0
      left.set(key, n - 1)
      return n > 0
    })
    if (all) return { runId: run.runId, matched: picked.length }
  }
  return null
}

export interface MatchResult {
  /** fileId -> the chosen File */
  matched: Map<string, File>
  /** Files of the record still to upload that were not chosen. */
  missing: ResumeFile[]
  /** Chosen files with the right name and size but another modification time. */
  changed: ResumeFile[]
}

/** Pair the record's unfinished files with files the person chose again (by name and size). */
export function matchFiles(record: ResumeRecord, picked: Iterable<Picked>): MatchResult {
  const pool = new Map<string, Picked[]>()
  for (const p of picked) {
    const key = nameAndSize(p.name, p.file.size)
    pool.set(key, [...(pool.get(key) ?? []), p])
  }
  const matched = new Map<string, File>()
  const missing: ResumeFile[] = []
  const changed: ResumeFile[] = []
  for (const want of record.files) {
    if (want.done) continue
    const candidates = pool.get(nameAndSize(want.name, want.size)) ?? []
    const at = candidates.findIndex((p) => p.file.lastModified === want.lastModified)
    if (at >= 0) matched.set(want.fileId, candidates.splice(at, 1)[0].file)
    else if (candidates.length) changed.push(want)
    else missing.push(want)
  }
  return { matched, missing, changed }
}

/** What to keep for the run just created, so a reload can resume it. */
export function recordFor(apiUrl: string, run: RunOut, pairs: [Entry, UploadFileOut][]): ResumeRecord {
  return {
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

/** "a.bin, b.bin and 3 more" */
function names(files: ResumeFile[], most = 5): string {
  const shown = files.slice(0, most).map((f) => `«${f.name}»`)
  const more = files.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}

/** Why the chosen files cannot resume the record, or null when they can. */
export function resumeProblem({ missing, changed }: MatchResult): ErrorView | null {
  if (!changed.length && !missing.length) return null
  const lines: string[] = []
  if (changed.length) {
    lines.push(
      `${changed.length === 1 ? 'This file has' : 'These files have'} changed since the upload started: ${names(changed)}. ` +
        'The bucket holds part of the old version: cancel this unfinished upload and upload the files as a new run.',
    )
  }
  if (missing.length) lines.push(`Not chosen again: ${names(missing)}. Choose the same files to resume.`)
  return { title: 'Cannot resume this upload', message: lines[0], details: lines.slice(1) }
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
