// What the upload page sees of an upload session and what it can ask of it: the session
// (session.ts) implements SessionView; the page's components depend on this file only, so a test
// can hand them any object that keeps the same promises.

import type { RunOut, UploadRules } from '../lib/types'
import type { Phase } from './machine'
import type { ResumeFile } from './resume'

export type EntryStatus = 'selected' | 'queued' | 'uploading' | 'paused' | 'uploaded' | 'failed' | 'cancelled'
/** 'waiting': not hashed yet (a large file is hashed once its upload starts). */
export type HashState = 'waiting' | 'hashing' | 'done' | 'error'

/** A file as chosen: a File from a picker, a drop or a paste, with its path inside a chosen
 *  folder (`docs/a.pdf`) when it came from one. The path is the name the run records. */
export type Chosen = File | { file: File; path: string }

export interface ErrorView {
  title: string
  message: string
  details: string[]
}

export interface EntryView {
  id: string
  /** The name the run records: a folder upload's relative path, else the file's name. */
  name: string
  size: number
  contentType: string
  hashState: HashState
  hashFraction: number
  sha256: string | null
  status: EntryStatus
  uploaded: number
  fraction: number
  /** Bytes per second, null while unknown; 0 while stalled. */
  speed: number | null
  eta: number | null
  /** Why the upload of this file stopped (status 'failed'), in words. */
  error: string | null
  /** Why this file cannot be uploaded as chosen (over a limit, a name the server refuses, the
   *  API's refusal of this file), in words; Upload stays disabled while any entry has one. */
  problem: string | null
  /** The file changed on disk after it was chosen: only choosing it again can help. */
  changed: boolean
  fileId: string | null
  method: 'PUT' | 'multipart' | null
  partCount: number | null
}

export interface Progress {
  total: number
  done: number
  fraction: number
  /** Bytes per second over the last seconds; null while unknown. */
  speed: number | null
  eta: number | null
}

/** A run this browser started whose upload did not finish (a reload, a closed tab, a crash). */
export interface UnfinishedRun {
  runId: string
  type: string
  label: string | null
  savedAt: string
  /** Its files still to send. */
  remaining: ResumeFile[]
  /** All its files. */
  files: ResumeFile[]
}

/** The files just chosen are the remaining files of an unfinished run: resume it instead? */
export interface ResumeOffer {
  runId: string
  /** How many of the chosen files belong to it. */
  matched: number
}

export interface Snapshot {
  phase: Phase
  entries: EntryView[]
  run: RunOut | null
  error: ErrorView | null
  notice: string | null
  /** Upload progress of the session as a whole. */
  overall: Progress & {
    /** Uploading, but nothing moved for a few seconds or the browser is offline. */
    stalled: boolean
  }
  /** The checksums the run waits for (files that go in one PUT), with rate and time left. */
  hashing: Progress
  /** The server's upload rules (GET /v1/limits `uploads`); null until they are known. */
  rules: UploadRules | null
  /** What keeps the chosen files from going as one run, in words (too many files, the total
   *  over the pending-bytes quota); Upload stays disabled while there is any. */
  problems: string[]
  /** Interrupted uploads of this browser, newest first (not the one in this session). */
  unfinished: UnfinishedRun[]
  offer: ResumeOffer | null
  /** The browser says it is online. */
  online: boolean
  /** Paused by pauseAll(). */
  paused: boolean
}

export interface RunForm {
  type: string
  label: string
  notes: string
}

/** What the page can ask of a session. Every method is safe to call in any phase: one that does
 *  not apply does nothing. */
export interface SessionView {
  subscribe(listener: () => void): () => void
  getSnapshot(): Snapshot
  readonly busy: boolean

  /** Add files (checked against the rules at once, before any hashing). When they are the
   *  remaining files of an unfinished run, `offer` asks whether to resume it. */
  addFiles(files: Iterable<Chosen>): void
  removeFile(id: string): void
  /** A changed file chosen again in its place (hashed again; the run, if any, starts over). */
  replaceFile(id: string, file: File): void
  /** Remove every file that has a problem. */
  removeRefused(): void

  start(form: RunForm): Promise<void>
  cancel(): Promise<void>
  retry(): Promise<void>
  retryFile(id: string): Promise<void>
  pauseAll(): void
  resumeAll(): void
  pauseFile(id: string): void
  resumeFile(id: string): void
  /** Forget the files and the run, start over (after done, cancelled or an error). */
  reset(): void
  dismissError(): void

  /** Resume an unfinished run with its files chosen again (matched by name and size). */
  resumeWith(runId: string, files: Iterable<Chosen>): Promise<void>
  /** Cancel an unfinished run (its partial uploads are removed) and forget it. */
  discard(runId: string): Promise<void>
  /** Take the offer: the chosen files resume its run. */
  acceptOffer(): Promise<void>
  /** Decline it: the chosen files stay, for a new run. */
  declineOffer(): void
  /** Check the unfinished runs against the API: runs no longer pending are forgotten. */
  refreshUnfinished(): Promise<void>
}
