// The files of an upload session: one Entry per file chosen, checked, hashed (SHA-256), then
// paired with the file the API created for it and followed through the upload. A file that goes
// in one PUT is hashed as soon as it is chosen (and passed the checks): the run waits for its
// sha256 (its URL signs it). A larger one is hashed once its bytes start to go, while its parts
// are sent (hashing before would only take a core and the disk from the start of the upload), and
// its sha256 is declared when it is completed. EntryView is what the page shows of one.

import { errorMessage } from '../lib/api'
import type { UploadFileOut } from '../lib/types'
import { changedText, isFileChanged } from './errors'
import type { Hasher } from './hasher'
import { SpeedMeter, fraction, timeLeft } from './progress'
import type { Chosen, EntryStatus, EntryView, HashState } from './snapshot'
import type { Target } from './uppy'

export interface Entry {
  id: string
  /** Null for a resumed file that was not chosen again (it is in the bucket already). */
  file: File | null
  /** The name the run records: a folder upload's relative path, else the file's name. */
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
  /** Why the checks refuse it (checks.ts). */
  problem: string | null
  /** Why the API refused it when the run was to be created. */
  refusal: string | null
  changed: boolean
  meter: SpeedMeter
  fileId: string | null
  uppyId: string | null
  target: Target | null
  /** The view built last: handed out again while nothing in it changed. */
  view: EntryView | null
}

let nextEntryId = 1

function entryId(): string {
  return `f${nextEntryId++}`
}

/** A chosen file and the name its run records. */
export function unwrap(chosen: Chosen): { file: File; name: string } {
  return 'file' in chosen ? { file: chosen.file, name: chosen.path } : { file: chosen, name: chosen.name }
}

/** The file's type when it is a well-formed media type, else application/octet-stream. */
export function contentTypeOf(file: File): string {
  const type = file.type.trim()
  return /^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*(\s*;.*)?$/.test(type) ? type : 'application/octet-stream'
}

export interface HashEvents {
  /** Hashing progressed, finished or failed (throttle these). */
  progress: () => void
}

function newEntry(file: File | null, name: string, size: number, lastModified: number, contentType: string): Entry {
  return {
    id: entryId(),
    file,
    name,
    size,
    lastModified,
    contentType,
    hashState: 'waiting',
    hashed: 0,
    sha256: null,
    hashAbort: new AbortController(),
    hashPromise: Promise.resolve(''),
    status: 'selected',
    uploaded: 0,
    error: null,
    problem: null,
    refusal: null,
    changed: false,
    meter: new SpeedMeter(),
    fileId: null,
    uppyId: null,
    target: null,
    view: null,
  }
}

/** A newly chosen file, not checked nor hashed yet. */
export function chosenEntry(file: File, name: string): Entry {
  return newEntry(file, name, file.size, file.lastModified, contentTypeOf(file))
}

/** The file cannot go as it is: the checks or the API refused it, or it changed since it was chosen. */
export function blocked(entry: Entry): boolean {
  return entry.problem !== null || entry.refusal !== null || entry.changed
}

/** A changed file: it fails, and only choosing it again helps. */
export function markChanged(entry: Entry): void {
  entry.changed = true
  entry.status = 'failed'
  entry.error = changedText(entry.name)
}

/** Hash the entry's file (again, after a failure or a reload); `hashPromise` follows it. */
export function hashEntry(entry: Entry, hasher: Hasher, on: HashEvents): void {
  const file = entry.file
  if (!file) return
  entry.hashState = 'hashing'
  entry.hashed = 0
  entry.sha256 = null
  const abort = (entry.hashAbort = new AbortController())
  // Only this job's news counts: an entry hashed again has a newer one.
  const current = () => entry.hashAbort === abort
  entry.hashPromise = hasher
    .hash(
      file,
      (bytes) => {
        if (!current()) return
        entry.hashed = bytes
        on.progress()
      },
      abort.signal,
    )
    .then(
      (sha256) => {
        if (current()) {
          entry.sha256 = sha256
          entry.hashed = entry.size
          entry.hashState = 'done'
          on.progress()
        }
        return sha256
      },
      (error: unknown) => {
        if (!current()) throw error
        if (abort.signal.aborted) {
          // stopped on purpose (the file was removed, or refused meanwhile): not a failure
          entry.hashState = 'waiting'
          entry.hashed = 0
        } else {
          entry.hashState = 'error'
          if (isFileChanged(error)) markChanged(entry)
          else entry.error = errorMessage(error)
        }
        on.progress()
        throw error
      },
    )
  entry.hashPromise.catch(() => undefined) // observed by start() or at complete; never unhandled
}

/** Stop hashing the entry (it is removed, or refused meanwhile). */
export function stopHashing(entry: Entry): void {
  entry.hashAbort.abort()
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
    ...newEntry(file, rf.name, rf.size, rf.lastModified, rf.contentType),
    hashState: rf.sha256 ? 'done' : 'waiting',
    hashed: rf.sha256 ? rf.size : 0,
    sha256: rf.sha256 || null,
    hashPromise: Promise.resolve(rf.sha256),
    status: rf.done ? 'uploaded' : 'queued',
    uploaded: rf.done ? rf.size : 0,
    fileId: rf.fileId,
    target: rf.target,
  }
}

/** The API's files in the order of the entries: the API answers in the order it was sent; a
 *  file out of place is found by name and size. */
export function pairFiles(entries: Entry[], files: UploadFileOut[]): [Entry, UploadFileOut][] {
  const key = (name: string, size: number) => `${size}|${name}`
  const inPlace = entries.every((e, i) => files[i]?.name === e.name && files[i].size_bytes === e.size)
  if (inPlace) return entries.map((e, i) => [e, files[i]])
  const pool = new Map<string, UploadFileOut[]>()
  for (const f of files) pool.set(key(f.name, f.size_bytes), [...(pool.get(key(f.name, f.size_bytes)) ?? []), f])
  return entries.map((e, i) => [e, pool.get(key(e.name, e.size))?.shift() ?? files[i]])
}

/** What the page shows of the entry; the same object as last time when nothing in it changed,
 *  so a list of 1,000 files re-renders only the rows that moved. `live`: speeds mean something
 *  now (uploading, not paused, online). */
export function entryView(e: Entry, live: boolean): EntryView {
  const moving = live && e.status === 'uploading'
  const speed = moving ? e.meter.speed() : null
  const view: EntryView = {
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
    eta: moving ? timeLeft(e.size - e.uploaded, speed) : null,
    error: e.error,
    problem: e.problem ?? e.refusal,
    changed: e.changed,
    fileId: e.fileId,
    method: e.target?.upload.method ?? null,
    partCount: e.target?.upload.method === 'multipart' ? e.target.upload.part_count : null,
  }
  if (e.view && sameView(e.view, view)) return e.view
  e.view = view
  return view
}

function sameView(a: EntryView, b: EntryView): boolean {
  for (const key of Object.keys(b) as (keyof EntryView)[]) if (a[key] !== b[key]) return false
  return true
}
