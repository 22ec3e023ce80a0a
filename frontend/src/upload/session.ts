// One upload session: the files a person chose, their checksums, the run created for them, the
// bytes going to the bucket, cancel, retry, and resume after a reload. UI-independent: React
// subscribes to its snapshots (useSyncExternalStore); tests drive it directly.

import { type ApiClient, ApiError, errorMessage } from '../lib/api'
import type { CreateUploadResponse, Run, StoredPart, UploadFile } from '../lib/types'
import type { Hasher } from './hasher'
import { SpeedMeter, combine, fraction, timeLeft } from './progress'
import { type ResumeFile, type ResumeRecord, type ResumeStore, matchFiles } from './resume'
import { BucketUploader, type Target, type UploaderOptions, describeUploadError } from './uppy'

export type Phase = 'idle' | 'hashing' | 'creating' | 'uploading' | 'done' | 'failed' | 'cancelling' | 'cancelled'
export type EntryStatus = 'selected' | 'queued' | 'uploading' | 'uploaded' | 'failed' | 'cancelled'
export type HashState = 'hashing' | 'done' | 'error'

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

export interface ErrorView {
  title: string
  message: string
  details: string[]
}

export interface Snapshot {
  phase: Phase
  entries: EntryView[]
  run: Run | null
  error: ErrorView | null
  notice: string | null
  overall: { total: number; done: number; fraction: number; speed: number | null; eta: number | null }
  hashing: { total: number; done: number; fraction: number }
  resume: ResumeRecord | null
}

export interface RunForm {
  type: string
  label: string
  notes: string
}

interface Entry {
  id: string
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

export interface SessionDeps {
  api: ApiClient
  hasher: Hasher
  store: ResumeStore
  /** Builds the uploader; tests pass options such as a fake byte sender. */
  makeUploader?: (api: ApiClient, options: UploaderOptions) => BucketUploader
  uploaderOptions?: UploaderOptions
  /** Milliseconds between progress snapshots. */
  throttleMs?: number
  /** Milliseconds between speed samples while uploading. */
  tickMs?: number
}

let nextEntryId = 1

export function contentTypeOf(file: File): string {
  const type = file.type.trim()
  return /^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*(\s*;.*)?$/.test(type) ? type : 'application/octet-stream'
}

const DEFAULT_TITLE = 'The upload could not go on'

export function toErrorView(error: unknown): ErrorView {
  if (error instanceof ApiError) {
    const title =
      error.status === 0
        ? 'Cannot reach the API'
        : error.status >= 400 && error.status < 500
          ? 'The API refused this upload'
          : 'The API could not take the upload'
    return {
      title,
      message: error.message,
      details: error.details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)),
    }
  }
  return { title: DEFAULT_TITLE, message: errorMessage(error), details: [] }
}

export class UploadSession {
  readonly #deps: SessionDeps
  #phase: Phase = 'idle'
  #entries: Entry[] = []
  #run: Run | null = null
  #error: ErrorView | null = null
  #notice: string | null = null
  #resume: ResumeRecord | null
  #uploader: BucketUploader | null = null
  #overallMeter = new SpeedMeter()
  #listeners = new Set<() => void>()
  #snapshot: Snapshot
  #timer: ReturnType<typeof setTimeout> | null = null
  #ticker: ReturnType<typeof setInterval> | null = null

  constructor(deps: SessionDeps) {
    this.#deps = deps
    this.#resume = deps.store.load(deps.api.baseUrl)
    this.#snapshot = this.#build()
  }

  // --- subscription -------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  getSnapshot = (): Snapshot => this.#snapshot

  #emit(): void {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    this.#snapshot = this.#build()
    for (const listener of this.#listeners) listener()
  }

  #emitSoon(): void {
    if (this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#emit()
    }, this.#deps.throttleMs ?? 100)
  }

  #build(): Snapshot {
    const entries = this.#entries.map((e): EntryView => {
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
    })
    const totals = combine(this.#entries.map((e) => ({ size: e.size, done: e.uploaded })))
    const hashing = combine(this.#entries.map((e) => ({ size: e.size, done: e.hashed })))
    const active = this.#phase === 'uploading'
    const speed = active ? this.#overallMeter.speed() : null
    return {
      phase: this.#phase,
      entries,
      run: this.#run,
      error: this.#error,
      notice: this.#notice,
      overall: { ...totals, speed, eta: active ? timeLeft(totals.total - totals.done, speed) : null },
      hashing,
      resume: this.#resume,
    }
  }

  // --- choosing files -----------------------------------------------------------------------

  get busy(): boolean {
    return ['hashing', 'creating', 'uploading', 'cancelling'].includes(this.#phase)
  }

  addFiles(files: Iterable<File>): void {
    if (this.#phase !== 'idle') this.reset()
    this.#notice = null
    for (const file of files) {
      const duplicate = this.#entries.some(
        (e) => e.name === file.name && e.size === file.size && e.lastModified === file.lastModified,
      )
      if (!duplicate) this.#entries.push(this.#newEntry(file))
    }
    this.#emit()
  }

  removeFile(id: string): void {
    if (this.#phase !== 'idle') return
    const entry = this.#entries.find((e) => e.id === id)
    if (!entry) return
    entry.hashAbort.abort()
    this.#entries = this.#entries.filter((e) => e !== entry)
    this.#emit()
  }

  #newEntry(file: File): Entry {
    const entry: Entry = {
      id: `f${nextEntryId++}`,
      file,
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
      contentType: contentTypeOf(file),
      hashState: 'hashing',
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
    entry.hashPromise = this.#deps.hasher
      .hash(
        file,
        (bytes) => {
          entry.hashed = bytes
          this.#emitSoon()
        },
        entry.hashAbort.signal,
      )
      .then(
        (sha256) => {
          entry.sha256 = sha256
          entry.hashed = entry.size
          entry.hashState = 'done'
          this.#emit()
          return sha256
        },
        (error: unknown) => {
          entry.hashState = 'error'
          entry.error = errorMessage(error)
          this.#emit()
          throw error
        },
      )
    entry.hashPromise.catch(() => undefined) // observed by start(); never unhandled
    return entry
  }

  // --- uploading ----------------------------------------------------------------------------

  async start(form: RunForm): Promise<void> {
    if (this.#phase !== 'idle') return
    if (this.#entries.length === 0) {
      this.#error = { title: 'Nothing to upload', message: 'Choose at least one file to upload.', details: [] }
      this.#emit()
      return
    }
    this.#error = null
    this.#notice = null
    this.#phase = 'hashing'
    this.#emit()
    try {
      await Promise.all(this.#entries.map((e) => e.hashPromise))
    } catch (error) {
      if (this.#phase !== 'hashing') return
      this.#fail('idle', error)
      return
    }
    if (this.#phase !== 'hashing') return // cancelled while hashing
    this.#phase = 'creating'
    this.#emit()
    let created: CreateUploadResponse
    try {
      created = await this.#deps.api.createUpload({
        type: form.type,
        label: form.label.trim() || null,
        notes: form.notes.trim() || null,
        files: this.#entries.map((e) => ({
          name: e.name,
          size: e.size,
          content_type: e.contentType,
          sha256: e.sha256 ?? undefined,
        })),
      })
    } catch (error) {
      this.#fail('idle', error)
      return
    }
    this.#run = created.run
    const pairs = this.#pair(created.files)
    this.#deps.store.save({
      version: 1,
      apiUrl: this.#deps.api.baseUrl,
      runId: created.run.id,
      type: created.run.type,
      label: created.run.label,
      savedAt: new Date().toISOString(),
      files: pairs.map(([entry, file]) => this.#resumeFile(entry, file)),
    })
    if ((this.#phase as Phase) === 'cancelling') {
      await this.#cancelRun()
      return
    }
    const uploader = this.#newUploader()
    try {
      for (const [entry, file] of pairs) {
        entry.fileId = file.id
        entry.target = { runId: created.run.id, fileId: file.id, key: file.key, upload: file.upload }
        entry.uppyId = uploader.add(entry.file!, entry.target)
        entry.status = 'queued'
      }
    } catch (error) {
      this.#fail('failed', error)
      return
    }
    await this.#runUploads(() => uploader.upload())
  }

  /** The API's files in the order of our entries (matched by name and size, then position). */
  #pair(files: UploadFile[]): [Entry, UploadFile][] {
    const pool = [...files]
    return this.#entries.map((entry, index) => {
      let at = pool.findIndex((f) => f.name === entry.name && f.size_bytes === entry.size)
      if (at < 0) at = Math.min(index, pool.length - 1)
      const [file] = pool.splice(at, 1)
      return [entry, file]
    })
  }

  #resumeFile(entry: Entry, file: UploadFile): ResumeFile {
    return {
      fileId: file.id,
      name: entry.name,
      size: entry.size,
      lastModified: entry.lastModified,
      contentType: entry.contentType,
      sha256: entry.sha256 ?? '',
      key: file.key,
      upload: file.upload,
      done: false,
    }
  }

  #newUploader(): BucketUploader {
    this.#uploader?.destroy()
    const options: UploaderOptions = {
      ...this.#deps.uploaderOptions,
      onPartsFound: (fileId, parts) => this.#partsFound(fileId, parts),
    }
    const make = this.#deps.makeUploader ?? ((api, opts) => new BucketUploader(api, opts))
    const uploader = make(this.#deps.api, options)
    const byUppyId = (id: string | undefined) => this.#entries.find((e) => e.uppyId === id && id !== undefined)
    uploader.uppy.on('upload-progress', (file, progress) => {
      const entry = byUppyId(file?.id)
      if (!entry || entry.status === 'uploaded') return
      entry.status = 'uploading'
      entry.uploaded = Math.min(entry.size, progress.bytesUploaded || 0)
      entry.meter.update(entry.uploaded)
      this.#overallMeter.update(this.#entries.reduce((n, e) => n + e.uploaded, 0))
      this.#emitSoon()
    })
    uploader.uppy.on('upload-success', (file) => {
      const entry = byUppyId(file?.id)
      if (!entry) return
      entry.status = 'uploaded'
      entry.uploaded = entry.size
      entry.error = null
      if (entry.fileId) this.#deps.store.markDone(entry.fileId)
      this.#emit()
    })
    uploader.uppy.on('upload-error', (file, error) => {
      const entry = byUppyId(file?.id)
      if (!entry || this.#phase === 'cancelling' || this.#phase === 'cancelled') return
      entry.status = 'failed'
      entry.error = describeUploadError(error)
      this.#emit()
    })
    this.#uploader = uploader
    return uploader
  }

  #partsFound(fileId: string, parts: StoredPart[]): void {
    const entry = this.#entries.find((e) => e.fileId === fileId)
    const bytes = parts.reduce((n, p) => n + p.size, 0)
    entry?.meter.discount(bytes)
    this.#overallMeter.discount(bytes)
  }

  /** Sample progress every second too, so the speed falls to 0 when the network stalls. */
  #tick = (): void => {
    for (const e of this.#entries) if (e.status === 'uploading') e.meter.update(e.uploaded)
    this.#overallMeter.update(this.#entries.reduce((n, e) => n + e.uploaded, 0))
    this.#emit()
  }

  async #runUploads(run: () => Promise<unknown>): Promise<void> {
    this.#phase = 'uploading'
    this.#emit()
    this.#ticker ??= setInterval(this.#tick, this.#deps.tickMs ?? 1000)
    try {
      await run()
    } catch (error) {
      if (this.#phase === 'uploading') this.#error = toErrorView(error)
    } finally {
      if (this.#ticker) clearInterval(this.#ticker)
      this.#ticker = null
    }
    if (this.#phase !== 'uploading') return // cancelled meanwhile
    const unfinished = this.#entries.filter((e) => e.status !== 'uploaded')
    if (unfinished.length === 0) {
      this.#phase = 'done'
      this.#deps.store.clear()
    } else {
      for (const e of unfinished) {
        if (e.status !== 'failed') {
          e.status = 'failed'
          e.error ??= 'The upload stopped before this file was sent.'
        }
      }
      this.#phase = 'failed'
      this.#error ??= {
        title: DEFAULT_TITLE,
        message: `${unfinished.length} of ${this.#entries.length} files did not reach the bucket. Retry continues where they stopped.`,
        details: [],
      }
    }
    this.#emit()
  }

  /** Retry the files that failed; multipart files continue from the parts already stored. */
  async retry(): Promise<void> {
    if (this.#phase !== 'failed' || !this.#uploader) return
    this.#error = null
    for (const e of this.#entries) {
      if (e.status === 'failed') {
        e.status = 'queued'
        e.error = null
      }
    }
    const uploader = this.#uploader
    await this.#runUploads(() => uploader.retry())
  }

  /** Stop sending and cancel the run (DELETE /v1/uploads/{run}): its multipart uploads are aborted. */
  async cancel(): Promise<void> {
    if (this.#phase === 'hashing') {
      this.#phase = 'idle'
      this.#emit()
      return
    }
    if (this.#phase === 'creating') {
      this.#phase = 'cancelling' // start() cancels the run as soon as it exists
      this.#emit()
      return
    }
    if (this.#phase !== 'uploading' && this.#phase !== 'failed') return
    this.#phase = 'cancelling'
    this.#emit()
    this.#uploader?.cancel()
    await this.#cancelRun()
  }

  async #cancelRun(): Promise<void> {
    const runId = this.#run?.id
    if (!runId) return
    try {
      this.#run = await this.#deps.api.cancelRun(runId)
    } catch (error) {
      this.#fail('failed', error)
      return
    }
    this.#deps.store.clear()
    for (const e of this.#entries) if (e.status !== 'uploaded') e.status = 'cancelled'
    this.#phase = 'cancelled'
    this.#notice = 'Upload cancelled. The run is cancelled and its partial uploads removed from the bucket.'
    this.#emit()
  }

  /** Forget everything and start over (after done, cancelled or an error). */
  reset(): void {
    if (this.busy) return
    this.#uploader?.destroy()
    this.#uploader = null
    for (const e of this.#entries) e.hashAbort.abort()
    this.#entries = []
    this.#run = null
    this.#error = null
    this.#phase = 'idle'
    this.#overallMeter.reset()
    this.#emit()
  }

  dismissError(): void {
    this.#error = null
    this.#emit()
  }

  #fail(phase: Phase, error: unknown): void {
    this.#phase = phase
    this.#error = toErrorView(error)
    this.#emit()
  }

  // --- resume after reload ------------------------------------------------------------------

  /** Continue the interrupted upload with the same files chosen again. */
  async resumeWith(files: Iterable<File>): Promise<void> {
    const record = this.#resume
    if (!record || this.busy) return
    const { matched, missing, changed } = matchFiles(record, files)
    if (changed.length || missing.length) {
      const names = (list: ResumeFile[]) => list.map((f) => `${f.name}`).join(', ')
      this.#error = {
        title: 'Cannot resume yet',
        message: changed.length
          ? `These files changed since the upload started: ${names(changed)}. Discard the interrupted upload and start again.`
          : `To resume, choose the same files again: ${names(missing)}.`,
        details: [],
      }
      this.#emit()
      return
    }
    this.#error = null
    this.#phase = 'creating'
    this.#emit()
    let run
    try {
      run = await this.#deps.api.getRun(record.runId)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.#forgetResume(`Run ${record.runId} no longer exists; nothing to resume.`)
      } else {
        this.#fail('idle', error)
      }
      return
    }
    if (run.status !== 'pending') {
      this.#forgetResume(`Run ${record.runId} is ${run.status}; nothing to resume.`)
      return
    }
    const { files: _files, ...summary } = run
    this.#run = summary
    const finished = new Set(run.files.filter((f) => f.status !== 'pending').map((f) => f.id))
    this.#entries = record.files.map((rf) => {
      const done = rf.done || finished.has(rf.fileId)
      const entry: Entry = {
        id: `f${nextEntryId++}`,
        file: matched.get(rf.fileId) ?? null,
        name: rf.name,
        size: rf.size,
        lastModified: rf.lastModified,
        contentType: rf.contentType,
        hashState: 'done',
        hashed: rf.size,
        sha256: rf.sha256 || null,
        hashAbort: new AbortController(),
        hashPromise: Promise.resolve(rf.sha256),
        status: done ? 'uploaded' : 'queued',
        uploaded: done ? rf.size : 0,
        error: null,
        meter: new SpeedMeter(),
        fileId: rf.fileId,
        uppyId: null,
        target: { runId: record.runId, fileId: rf.fileId, key: rf.key, upload: rf.upload },
      }
      return entry
    })
    this.#resume = null
    this.#overallMeter.reset()
    this.#overallMeter.update(this.#entries.reduce((n, e) => n + e.uploaded, 0))
    const uploader = this.#newUploader()
    try {
      for (const entry of this.#entries) {
        if (entry.status === 'uploaded' || !entry.file || !entry.target) continue
        entry.uppyId = uploader.add(entry.file, entry.target, true)
      }
    } catch (error) {
      this.#fail('failed', error)
      return
    }
    this.#notice = `Resuming run ${record.runId}: parts already in the bucket are skipped.`
    await this.#runUploads(() => uploader.upload())
  }

  /** Give up the interrupted upload: cancel its run and forget it. */
  async discardResume(): Promise<void> {
    const record = this.#resume
    if (!record || this.busy) return
    this.#phase = 'cancelling'
    this.#emit()
    try {
      await this.#deps.api.cancelRun(record.runId)
    } catch (error) {
      // a run that is gone or already final has nothing left to cancel
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 409))) {
        this.#fail('idle', error)
        return
      }
    }
    this.#forgetResume(`Interrupted upload discarded; run ${record.runId} is cancelled.`)
  }

  #forgetResume(notice: string): void {
    this.#deps.store.clear()
    this.#resume = null
    this.#phase = 'idle'
    this.#notice = notice
    this.#emit()
  }

  destroy(): void {
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#ticker) clearInterval(this.#ticker)
    this.#uploader?.destroy()
    for (const e of this.#entries) e.hashAbort.abort()
    this.#listeners.clear()
  }
}
