// One upload session: the files a person chose, the run created for them, the bytes going to the
// bucket, cancel, retry, and resume after a reload. UI-independent: React subscribes to its
// snapshots (store.ts), tests drive it directly. Its phase changes only through the state
// machine (machine.ts); the files are entries (entries.ts), sent by Uppy (wiring.ts, uppy.ts),
// and kept for a resume (resume.ts).

import { hasCode } from '../lib/api'
import type { CreateUploadResponse, RunOut } from '../lib/types'
import {
  type Entry,
  type EntryView,
  type HashEvents,
  chosenEntry,
  entryView,
  hashChosen,
  hashEntry,
  hashedFirst,
  pairFiles,
  sameFile,
  sha256Of,
} from './entries'
import { DEFAULT_TITLE, type ErrorView, toErrorView } from './errors'
import type { Hasher } from './hasher'
import { type Phase, type UploadEvent, UploadMachine } from './machine'
import { SpeedMeter, combine, timeLeft } from './progress'
import { type ResumeRecord, type ResumeStore, matchFiles, recordFor, resumeProblem, resumedEntries } from './resume'
import { SnapshotStore } from './store'
import { Transfer, type TransferDeps } from './wiring'

export type { Phase } from './machine'
export type { EntryStatus, EntryView, HashState } from './entries'
export type { ErrorView } from './errors'

export interface Snapshot {
  phase: Phase
  entries: EntryView[]
  run: RunOut | null
  error: ErrorView | null
  notice: string | null
  overall: { total: number; done: number; fraction: number; speed: number | null; eta: number | null }
  /** The files hashed before the run is created (the `hashing` phase waits for them). */
  hashing: { total: number; done: number; fraction: number }
  resume: ResumeRecord | null
}

export interface RunForm {
  type: string
  label: string
  notes: string
}

export interface SessionDeps extends TransferDeps {
  hasher: Hasher
  store: ResumeStore
  /** Milliseconds between progress snapshots. */
  throttleMs?: number
}

export class UploadSession {
  readonly #deps: SessionDeps
  readonly #machine = new UploadMachine()
  #entries: Entry[] = []
  #run: RunOut | null = null
  #error: ErrorView | null = null
  #notice: string | null = null
  #resume: ResumeRecord | null
  #transfer: Transfer | null = null
  readonly #overall = new SpeedMeter()
  readonly #store: SnapshotStore<Snapshot>
  readonly #hashEvents: HashEvents = {
    progress: () => this.#store.emitSoon(),
    settled: () => this.#emit(),
  }

  constructor(deps: SessionDeps) {
    this.#deps = deps
    this.#resume = deps.store.load(deps.api.baseUrl)
    this.#store = new SnapshotStore(() => this.#build(), deps.throttleMs ?? 100)
  }

  subscribe = (listener: () => void): (() => void) => this.#store.subscribe(listener)

  getSnapshot = (): Snapshot => this.#store.getSnapshot()

  get busy(): boolean {
    return this.#machine.busy
  }

  #emit(): void {
    this.#store.emit()
  }

  #send(event: UploadEvent): void {
    this.#machine.send(event)
    this.#emit()
  }

  #fail(event: UploadEvent, error: unknown): void {
    this.#error = toErrorView(error)
    this.#send(event)
  }

  #build(): Snapshot {
    const totals = combine(this.#entries.map((e) => ({ size: e.size, done: e.uploaded })))
    const active = this.#machine.is('uploading')
    const speed = active ? this.#overall.speed() : null
    return {
      phase: this.#machine.phase,
      entries: this.#entries.map(entryView),
      run: this.#run,
      error: this.#error,
      notice: this.#notice,
      overall: { ...totals, speed, eta: active ? timeLeft(totals.total - totals.done, speed) : null },
      hashing: combine(this.#entries.filter(hashedFirst).map((e) => ({ size: e.size, done: e.hashed }))),
      resume: this.#resume,
    }
  }

  // --- choosing files -----------------------------------------------------------------------

  addFiles(files: Iterable<File>): void {
    if (!this.#machine.is('idle')) {
      if (!this.#machine.can('reset')) return // busy: files cannot change under an upload
      this.reset()
    }
    this.#notice = null
    const added: Entry[] = []
    for (const file of files) {
      if ([...this.#entries, ...added].some((e) => sameFile(e, file))) continue
      added.push(chosenEntry(file))
    }
    this.#entries.push(...added)
    hashChosen(added, this.#deps.hasher, this.#hashEvents)
    this.#emit()
  }

  removeFile(id: string): void {
    if (!this.#machine.is('idle')) return
    const entry = this.#entries.find((e) => e.id === id)
    if (!entry) return
    entry.hashAbort.abort()
    this.#entries = this.#entries.filter((e) => e !== entry)
    this.#emit()
  }

  // --- uploading ----------------------------------------------------------------------------

  async start(form: RunForm): Promise<void> {
    if (!this.#machine.can('start')) return
    if (this.#entries.length === 0) {
      this.#error = { title: 'Nothing to upload', message: 'Choose at least one file to upload.', details: [] }
      this.#emit()
      return
    }
    this.#error = null
    this.#notice = null
    this.#send('start')
    this.#hashAgain(this.#entries)
    try {
      // Only the files that go in one PUT: the others are hashed while they upload.
      await Promise.all(this.#entries.filter(hashedFirst).map((e) => e.hashPromise))
    } catch (error) {
      if (this.#machine.is('hashing')) this.#fail('hashFailed', error)
      return
    }
    if (!this.#machine.is('hashing')) return // cancelled while hashing
    this.#send('hashed')
    let created: CreateUploadResponse
    try {
      created = await this.#deps.api.createUpload({
        type: form.type,
        label: form.label.trim() || null,
        notes: form.notes.trim() || null,
        // A sha256 known already is declared now; the others at complete.
        files: this.#entries.map((e) => ({ name: e.name, size: e.size, content_type: e.contentType, sha256: e.sha256 })),
      })
    } catch (error) {
      this.#fail('createFailed', error)
      return
    }
    this.#run = created.run
    const pairs = pairFiles(this.#entries, created.files)
    this.#deps.store.save(recordFor(this.#deps.api.baseUrl, created.run, pairs))
    this.#machine.send('created') // IGNORED while cancelling: then the run is cancelled at once
    if (this.#machine.is('cancelling')) return this.#cancelRun()
    const transfer = this.#newTransfer()
    try {
      for (const [entry, file] of pairs) {
        entry.fileId = file.id
        entry.target = { runId: created.run.id, fileId: file.id, key: file.key, upload: file.upload }
        transfer.queue(entry)
      }
    } catch (error) {
      this.#fail('queueFailed', error)
      return
    }
    await this.#runTransfer('upload')
  }

  #newTransfer(): Transfer {
    this.#transfer?.destroy()
    this.#transfer = new Transfer(this.#deps, {
      entries: () => this.#entries,
      overall: this.#overall,
      progress: () => this.#store.emitSoon(),
      changed: () => this.#emit(),
      stored: (entry) => {
        if (entry.fileId) this.#deps.store.markDone(entry.fileId)
      },
      stopping: () => this.#machine.is('cancelling', 'cancelled'),
      sha256: (entry) => sha256Of(entry, this.#deps.hasher, this.#hashEvents),
    })
    return this.#transfer
  }

  /** Send the queued files (or the failed ones again) until the uploader stops; then done or failed. */
  async #runTransfer(kind: 'upload' | 'retry'): Promise<void> {
    const transfer = this.#transfer
    if (!transfer) return
    this.#emit()
    const error = await transfer.run(kind)
    if (!this.#machine.is('uploading')) return // cancelled meanwhile
    if (error) this.#error = toErrorView(error)
    const unfinished = this.#entries.filter((e) => e.status !== 'uploaded')
    if (unfinished.length === 0) {
      this.#deps.store.clear()
      this.#send('finished')
      return
    }
    for (const e of unfinished) {
      if (e.status !== 'failed') {
        e.status = 'failed'
        e.error ??= 'The upload stopped before this file was sent.'
      }
    }
    this.#error ??= {
      title: DEFAULT_TITLE,
      message: `${unfinished.length} of ${this.#entries.length} files did not reach the bucket. Retry continues where they stopped.`,
      details: [],
    }
    this.#send('unfinished')
  }

  /** Retry the files that failed; multipart files continue from the parts already stored. */
  async retry(): Promise<void> {
    if (!this.#machine.can('retry') || !this.#transfer) return
    this.#error = null
    for (const e of this.#entries) {
      if (e.status === 'failed') {
        e.status = 'queued'
        e.error = null
      }
    }
    this.#hashAgain(this.#entries.filter((e) => e.status === 'queued'))
    this.#machine.send('retry')
    await this.#runTransfer('retry')
  }

  /** Files whose hashing failed (a file unreadable for a moment) are hashed again. */
  #hashAgain(entries: Entry[]): void {
    for (const e of entries) if (e.hashState === 'error') hashEntry(e, this.#deps.hasher, this.#hashEvents)
  }

  /** Stop sending and cancel the run (DELETE /v1/uploads/{run}): its multipart uploads are aborted. */
  async cancel(): Promise<void> {
    if (!this.#machine.can('cancel')) return
    const before = this.#machine.phase
    this.#send('cancel')
    // hashing: back to choosing files; creating: start() cancels the run as soon as it exists
    if (before === 'hashing' || before === 'creating') return
    this.#transfer?.cancel()
    await this.#cancelRun()
  }

  async #cancelRun(): Promise<void> {
    const runId = this.#run?.id
    if (!runId) return
    try {
      this.#run = await this.#deps.api.cancelRun(runId)
    } catch (error) {
      this.#fail('cancelFailed', error)
      return
    }
    this.#deps.store.clear()
    for (const e of this.#entries) if (e.status !== 'uploaded') e.status = 'cancelled'
    this.#notice = 'Upload cancelled. The run is cancelled and its partial uploads removed from the bucket.'
    this.#send('cancelled')
  }

  /** Forget everything and start over (after done, cancelled or an error). */
  reset(): void {
    if (!this.#machine.can('reset')) return
    this.#transfer?.destroy()
    this.#transfer = null
    for (const e of this.#entries) e.hashAbort.abort()
    this.#entries = []
    this.#run = null
    this.#error = null
    this.#overall.reset()
    this.#send('reset')
  }

  dismissError(): void {
    this.#error = null
    this.#emit()
  }

  // --- resume after reload ------------------------------------------------------------------

  /** Continue the interrupted upload with the same files chosen again. */
  async resumeWith(files: Iterable<File>): Promise<void> {
    const record = this.#resume
    if (!record || !this.#machine.can('resume')) return
    const match = matchFiles(record, files)
    const problem = resumeProblem(match)
    if (problem) {
      this.#error = problem
      this.#emit()
      return
    }
    this.#error = null
    this.#send('resume')
    let run
    try {
      run = await this.#deps.api.getRun(record.runId)
    } catch (error) {
      if (hasCode(error, 'not_found')) this.#forgetResume('resumeEnded', `Run ${record.runId} no longer exists; nothing to resume.`)
      else this.#fail('resumeEnded', error)
      return
    }
    if (run.status !== 'pending') {
      this.#forgetResume('resumeEnded', `Run ${record.runId} is ${run.status}; nothing to resume.`)
      return
    }
    const { files: _files, ...summary } = run
    this.#run = summary
    this.#resume = null
    this.#machine.send('created') // IGNORED while cancelling: then the run is cancelled at once
    if (this.#machine.is('cancelling')) return this.#cancelRun()
    this.#entries = resumedEntries(record, run, match.matched)
    this.#overall.reset()
    this.#overall.update(this.#entries.reduce((n, e) => n + e.uploaded, 0))
    const transfer = this.#newTransfer()
    try {
      for (const entry of this.#entries) if (entry.status !== 'uploaded' && entry.file) transfer.queue(entry, true)
    } catch (error) {
      this.#fail('queueFailed', error)
      return
    }
    this.#notice = `Resuming run ${record.runId}: parts already in the bucket are skipped.`
    await this.#runTransfer('upload')
  }

  /** Give up the interrupted upload: cancel its run and forget it. */
  async discardResume(): Promise<void> {
    const record = this.#resume
    if (!record || !this.#machine.can('discard')) return
    this.#send('discard')
    try {
      await this.#deps.api.cancelRun(record.runId)
    } catch (error) {
      // a run that is gone or no longer pending has nothing left to cancel
      if (!hasCode(error, 'not_found', 'run_not_pending')) {
        this.#fail('discardEnded', error)
        return
      }
    }
    this.#forgetResume('discardEnded', `Interrupted upload discarded; run ${record.runId} is cancelled.`)
  }

  #forgetResume(event: UploadEvent, notice: string): void {
    this.#deps.store.clear()
    this.#resume = null
    this.#notice = notice
    this.#send(event)
  }

  destroy(): void {
    this.#store.destroy()
    this.#transfer?.destroy()
    for (const e of this.#entries) e.hashAbort.abort()
  }
}
