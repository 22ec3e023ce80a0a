// The files of an upload session: one Entry per file chosen, hashed (SHA-256), then paired with
// the file the API created for it and followed through the upload. A file that goes in one PUT
// is hashed as soon as it is chosen: the run waits for its sha256 (its URL signs it). A larger
// one is hashed once its bytes start to go, while its parts are sent (hashing before would only
// take a core and the disk from the start of the upload), and its sha256 is declared when it is
// completed. EntryView is what the page shows of one.

import { errorMessage } from '../lib/api'
import type { UploadFileOut } from '../lib/types'
import type { Hasher } from './hasher'
import { SpeedMeter, fraction, timeLeft } from './progress'
import type { Target } from './uppy'

export type EntryStatus = 'selected' | 'queued' | 'uploading' | 'uploaded' | 'failed' | 'cancelled'
/** 'waiting': a large file, hashed once its upload starts (`sha256Of`). */
export type HashState = 'waiting' | 'hashing' | 'done' | 'error'

export interface Entry {
  id: string
  /** Null for a resumed file that was not chosen again (it is in the bucket already). */
  file: File | null
  name: string
  size: number
  lastModified: number
  contentType: string
  hashState: HashState
  hashed: number
  sha256: string | null
  hashAbort: AbortController
  hashPromise: Promise<string>
  status: EntryStatus
  uploaded: number
  error: string | null
  meter: SpeedMeter
  fileId: string | null
  uppyId: string | null
  target: Target | null
}

export interface EntryView {
  id: string
  name: string
  size: number
  contentType: string
  hashState: HashState
  hashFraction: number
  sha256: string | null
  status: EntryStatus
  uploaded: number
  fraction: number
  speed: number | null
  eta: number | null
  error: string | null
  fileId: string | null
  method: 'PUT' | 'multipart' | null
  partCount: number | null
}

let nextEntryId = 1

function entryId(): string {
  return `f${nextEntryId++}`
}

/** The file's type when it is a well-formed media type, else application/octet-stream. */
export function contentTypeOf(file: File): string {
  const type = file.type.trim()
  return /^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*(\s*;.*)?$/.test(type) ? type : 'application/octet-stream'
}

/** The same file chosen twice (name, size and modification time). */
export function sameFile(entry: Entry, file: File): boolean {
  return entry.name === file.name && entry.size === file.size && entry.lastModified === file.lastModified
}

/**
 * The server's default multipart threshold: a file this size or smaller goes in one PUT and is
 * hashed when it is chosen; a larger one is hashed while it uploads.
 */
export const HASH_FIRST_MAX = 16 * 1024 * 1024

export function hashedFirst(entry: Pick<Entry, 'size'>): boolean {
  return entry.size <= HASH_FIRST_MAX
}

export interface HashEvents {
  /** Hashing progressed (throttle these). */
  progress: () => void
  /** Hashing finished or failed. */
  settled: () => void
}

/** A newly chosen file, not hashed yet (`hashEntries`). */
export function chosenEntry(file: File): Entry {
  return {
    id: entryId(),
    file,
    name: file.name,
    size: file.size,
    lastModified: file.lastModified,
    contentType: contentTypeOf(file),
    hashState: 'waiting',
    hashed: 0,
    sha256: null,
    hashAbort: new AbortController(),
    hashPromise: Promise.resolve(''),
    status: 'selected',
    uploaded: 0,
    error: null,
    meter: new SpeedMeter(),
    fileId: null,
    uppyId: null,
    target: null,
  }
}

/** Hash the entry's file (again, after a failure or a reload); `hashPromise` follows it. */
export function hashEntry(entry: Entry, hasher: Hasher, on: HashEvents): void {
  const file = entry.file
  if (!file) return
  entry.hashState = 'hashing'
  entry.hashed = 0
  entry.sha256 = null
  entry.hashAbort = new AbortController()
  entry.hashPromise = hasher
    .hash(
      file,
      (bytes) => {
        entry.hashed = bytes
        on.progress()
      },
      entry.hashAbort.signal,
    )
    .then(
      (sha256) => {
        entry.sha256 = sha256
        entry.hashed = entry.size
        entry.hashState = 'done'
        on.settled()
        return sha256
      },
      (error: unknown) => {
        entry.hashState = 'error'
        entry.error = errorMessage(error)
        on.settled()
        throw error
      },
    )
  entry.hashPromise.catch(() => undefined) // observed by start() or at complete; never unhandled
}

/** Hash the chosen files that go in one PUT now; the others wait for their upload. */
export function hashChosen(entries: Entry[], hasher: Hasher, on: HashEvents): void {
  for (const entry of entries.filter(hashedFirst)) hashEntry(entry, hasher, on)
}

/** The entry's sha256, declared at complete: its hashing starts now if it was waiting. */
export function sha256Of(entry: Entry, hasher: Hasher, on: HashEvents): Promise<string> {
  if (entry.hashState === 'waiting') hashEntry(entry, hasher, on)
  return entry.hashPromise
}

export interface ResumedFile {
  fileId: string
  name: string
  size: number
  lastModified: number
  contentType: string
  /** '' for a file that was not hashed yet when the run was created: it is hashed again. */
  sha256: string
  target: Target
  /** Its bytes are all in the bucket already. */
  done: boolean
}

/** A file of an interrupted upload, perhaps uploaded already. One without a sha256 (it was
 * hashing while uploading) is hashed again once its upload goes on. */
export function resumedEntry(rf: ResumedFile, file: File | null): Entry {
  return {
    id: entryId(),
    file,
    name: rf.name,
    size: rf.size,
    lastModified: rf.lastModified,
    contentType: rf.contentType,
    hashState: rf.sha256 ? 'done' : 'waiting',
    hashed: rf.sha256 ? rf.size : 0,
    sha256: rf.sha256 || null,
    hashAbort: new AbortController(),
    hashPromise: Promise.resolve(rf.sha256),
    status: rf.done ? 'uploaded' : 'queued',
    uploaded: rf.done ? rf.size : 0,
    error: null,
    meter: new SpeedMeter(),
    fileId: rf.fileId,
    uppyId: null,
    target: rf.target,
  }
}

/** The API's files in the order of the entries (matched by name and size, then position). */
export function pairFiles(entries: Entry[], files: UploadFileOut[]): [Entry, UploadFileOut][] {
  const pool = [...files]
  return entries.map((entry, index) => {
    let at = pool.findIndex((f) => f.name === entry.name && f.size_bytes === entry.size)
    if (at < 0) at = Math.min(index, pool.length - 1)
    const [file] = pool.splice(at, 1)
    return [entry, file]
  })
}

export function entryView(e: Entry): EntryView {
  const speed = e.status === 'uploading' ? e.meter.speed() : null
  return {
    id: e.id,
    name: e.name,
    size: e.size,
    contentType: e.contentType,
    hashState: e.hashState,
    hashFraction: fraction(e.hashed, e.size),
    sha256: e.sha256,
    status: e.status,
    uploaded: e.uploaded,
    fraction: fraction(e.uploaded, e.size),
    speed,
    eta: e.status === 'uploading' ? timeLeft(e.size - e.uploaded, speed) : null,
    error: e.error,
    fileId: e.fileId,
    method: e.target?.upload.method ?? null,
    partCount: e.target?.upload.method === 'multipart' ? e.target.upload.part_count : null,
  }
}
