// One upload session: the files a person chose, checked against the server's rules before any
// work, the run created for them, the bytes going to the bucket (paused and resumed, by hand or
// while offline), cancel, retry, and the runs this browser left unfinished. UI-independent: the
// page subscribes to its snapshots (snapshot.ts is all it knows of it), tests drive it directly.
// Its phase changes only through the state machine (machine.ts); the files are entries
// (entries.ts), checked (checks.ts), sent by Uppy (wiring.ts, uppy.ts), and kept for a resume
// (resume.ts).

import { hasCode } from '../lib/api'
import { fileCount, shortId } from '../lib/format'
import { type Network, network as browserNetwork } from '../lib/network'
import type { CreateUploadResponse, RunOut, UploadRules } from '../lib/types'
import { countProblem, fileKey, fileProblem, multipartThreshold } from './checks'
import {
  type Entry,
  type HashEvents,
  blocked,
  chosenEntry,
  entryView,
  hashEntry,
  markChanged,
  pairFiles,
  sha256Of,
  stopHashing,
  unwrap,
} from './entries'
import { DEFAULT_TITLE, fileRefusals, refusedView, toErrorView } from './errors'
import type { Hasher } from './hasher'
import { type UploadEvent, UploadMachine } from './machine'
import { SpeedMeter, combine, timeLeft } from './progress'
import {
  type MatchResult,
  type ResumeFile,
  type ResumeRecord,
  type ResumeStore,
  matchFiles,
  offerFor,
  recordFor,
  resumeProblem,
  resumedEntries,
  unfinishedRun,
} from './resume'
import type { Chosen, ErrorView, ResumeOffer, RunForm, SessionView, Snapshot, UnfinishedRun } from './snapshot'
import { SnapshotStore } from './store'
import { Transfer, type TransferDeps } from './wiring'

export type { Phase } from './machine'
export type { Chosen, EntryStatus, EntryView, ErrorView, HashState, RunForm, Snapshot } from './snapshot'

/** Uploading, and no byte moved for this long: the upload is stalled. */
export const STALL_MS = 5000

export interface SessionDeps extends TransferDeps {
  hasher: Hasher
  store: ResumeStore
  /** Whether the browser is online: the upload pauses while it is not. The page's one Network by default. */
  network?: Network
  /** Milliseconds between progress snapshots. */
  throttleMs?: number
  /** Milliseconds before the server's upload rules are asked for again, while they could not be loaded. */
  rulesRetryMs?: number
}

export class UploadSession implements SessionView {
  readonly #deps: SessionDeps
  readonly #apiUrl: string
  readonly #network: Network
  readonly #machine = new UploadMachine()
  /** The chosen files by id, in the order chosen. */
  #entries = new Map<string, Entry>()
  /** Each entry's fileKey: the same file is not added twice. */
  #keys = new Set<string>()
  #run: RunOut | null = null
  #error: ErrorView | null = null
  /** The banner of the API's refusal of files, which goes with the last of them. */
  #refusedBanner: ErrorView | null = null
  #notice: string | null = null
  #rules: UploadRules | null = null
  /** The first attempt to load the rules has ended, with them or without. */
  #rulesTried = false
  readonly #rulesAttempt: Promise<void>
  #rulesLoading = false
  #rulesTimer: ReturnType<typeof setTimeout> | null = null
  /** The record of the run being uploaded, kept for a resume after a reload. */
  #active: { record: ResumeRecord; files: Map<string, ResumeFile> } | null = null
  #activeSaveTimer: ReturnType<typeof setTimeout> | null = null
  #unfinished: UnfinishedRun[] = []
  readonly #discarding = new Set<string>()
  #offer: ResumeOffer | null = null
  /** pauseAll() was asked for. */
  #paused = false
  /** The uploader holds every file (paused, or offline). */
  #held = false
  #transfer: Transfer | null = null
  readonly #overall: SpeedMeter
  readonly #hashMeter: SpeedMeter
  readonly #store: SnapshotStore<Snapshot>
  readonly #hashEvents: HashEvents = { progress: () => this.#store.emitSoon() }
  readonly #unsubscribe: () => void

  constructor(deps: SessionDeps) {
    this.#deps = deps
    this.#apiUrl = deps.api.baseUrl
    this.#network = deps.network ?? browserNetwork
    this.#overall = new SpeedMeter(5000, deps.now)
    this.#hashMeter = new SpeedMeter(5000, deps.now)
    this.#reloadUnfinished()
    this.#store = new SnapshotStore(() => this.#build(), deps.throttleMs ?? 100)
    this.#unsubscribe = this.#network.subscribe(this.#networkChanged)
    this.#rulesAttempt = this.#loadRules()
    void this.refreshUnfinished()
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
    const entries = [...this.#entries.values()]
    const uploading = this.#machine.is('uploading')
    const online = this.#network.online
    // speeds and times left mean something only while bytes may move
    const live = uploading && !this.#paused && online
    const totals = combine(entries.map((e) => ({ size: e.size, done: e.uploaded })))
    const speed = live ? this.#overall.speed() : null
    return {
      phase: this.#machine.phase,
      entries: entries.map((e) => entryView(e, live)),
      run: this.#run,
      error: this.#error,
      notice: this.#notice,
      overall: {
        ...totals,
        speed,
        eta: live ? timeLeft(totals.total - totals.done, speed) : null,
        stalled: uploading && !this.#paused && (!online || this.#still(entries)),
      },
      hashing: this.#hashing(entries),
      rules: this.#rules,
      problems: this.#problems(),
      unfinished: this.#unfinished,
      offer: this.#offer,
      online,
      paused: this.#paused,
    }
  }

  /** No byte moved for a while, and no file is being hashed (a large file's complete waits for its sha256). */
  #still(entries: Entry[]): boolean {
    return (this.#transfer?.stillFor() ?? 0) > STALL_MS && !entries.some((e) => e.hashState === 'hashing')
  }

  /** Progress of the checksums the run waits for (the files that go in one PUT), with its rate. */
  #hashing(entries: Entry[]): Snapshot['hashing'] {
    const threshold = multipartThreshold(this.#rules)
    const first = entries.filter((e) => e.file && e.size <= threshold && !blocked(e))
    const totals = combine(first.map((e) => ({ size: e.size, done: e.hashed })))
    if (!first.some((e) => e.hashState === 'hashing')) {
      this.#hashMeter.reset()
      return { ...totals, speed: null, eta: null }
    }
    this.#hashMeter.update(totals.done)
    const speed = this.#hashMeter.speed()
    return { ...totals, speed, eta: timeLeft(totals.total - totals.done, speed) }
  }

  #problems(): string[] {
    const tooMany = countProblem(this.#entries.size, this.#rules)
    return tooMany ? [tooMany] : []
  }

  /** Something keeps the chosen files from going as one run. */
  #blocked(): boolean {
    return this.#problems().length > 0 || [...this.#entries.values()].some(blocked)
  }

  // --- the server's rules ---------------------------------------------------------------------

  async #loadRules(): Promise<void> {
    if (this.#rules || this.#rulesLoading) return
    this.#rulesLoading = true
    if (this.#rulesTimer) clearTimeout(this.#rulesTimer)
    try {
      this.#rules = (await this.#deps.api.limits()).uploads
    } catch {
      // Offline, the API down, a token still to come: go on without them (the API checks
      // everything again), and ask again later.
      this.#rulesTimer = setTimeout(() => void this.#loadRules(), this.#deps.rulesRetryMs ?? 15_000)
    } finally {
      this.#rulesLoading = false
    }
    this.#rulesTried = true
    if (this.#machine.is('idle', 'hashing')) this.#checkAll() // not the files of a run: the API took them
    this.#hashDue()
    this.#emit()
  }

  #networkChanged = (): void => {
    if (!this.#rules && this.#network.getSnapshot() === 'online') void this.#loadRules()
    this.#holdOrGo()
    this.#emit()
  }

  #check(entry: Entry): void {
    entry.problem = entry.file ? fileProblem(entry.name, entry.size, this.#rules) : null
    if (entry.problem) stopHashing(entry)
  }

  #checkAll(): void {
    for (const e of this.#entries.values()) this.#check(e)
  }

  /** Hash the files that go in one PUT once they passed the checks (not the ones an offer holds,
   *  nor any while the files cannot go as one run: too many of them). */
  #hashDue(): void {
    if (!this.#rulesTried || this.#offer || !this.#machine.is('idle', 'hashing')) return
    if (this.#problems().length > 0) return
    const threshold = multipartThreshold(this.#rules)
    for (const e of this.#entries.values()) {
      if (e.hashState === 'waiting' && e.size <= threshold && !blocked(e)) hashEntry(e, this.#deps.hasher, this.#hashEvents)
    }
  }

  /** Files whose hashing failed (unreadable for a moment) are hashed again; a changed one is not. */
  #hashAgain(entries: Iterable<Entry>): void {
    for (const e of entries) if (e.hashState === 'error' && !e.changed) hashEntry(e, this.#deps.hasher, this.#hashEvents)
  }

  // --- choosing files -------------------------------------------------------------------------

  addFiles(files: Iterable<Chosen>): void {
    if (!this.#machine.is('idle')) {
      if (!this.#machine.can('reset')) return // busy: files cannot change under an upload
      this.reset()
    }
    const added: Entry[] = []
    for (const chosen of files) {
      const { file, name } = unwrap(chosen)
      const key = fileKey(name, file.size, file.lastModified)
      if (this.#keys.has(key)) continue
      this.#keys.add(key)
      added.push(chosenEntry(file, name))
    }
    if (!added.length) return
    this.#notice = null
    // The remaining files of an unfinished run, dropped again: offer to resume it. Any other
    // file added takes the offer back.
    this.#offer = this.#entries.size === 0 ? offerFor(this.#unfinished, added) : null
    for (const e of added) {
      this.#check(e)
      this.#entries.set(e.id, e)
    }
    this.#hashDue()
    this.#emit()
  }

  removeFile(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry || !this.#machine.is('idle')) return
    this.#drop(entry)
    this.#removed()
  }

  removeRefused(): void {
    if (!this.#machine.is('idle')) return
    for (const e of [...this.#entries.values()]) if (e.problem || e.refusal) this.#drop(e)
    this.#removed()
  }

  #drop(entry: Entry): void {
    stopHashing(entry)
    this.#entries.delete(entry.id)
    this.#keys.delete(fileKey(entry.name, entry.size, entry.lastModified))
  }

  #removed(): void {
    this.#offer = null
    this.#settleRefusal()
    this.#hashDue()
    this.#emit()
  }

  /** The banner of the API's refusal goes with the last refused file. */
  #settleRefusal(): void {
    if (this.#error === this.#refusedBanner && ![...this.#entries.values()].some((e) => e.refusal)) this.#error = null
  }

  replaceFile(id: string, file: File): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    if (this.#machine.is('idle')) {
      this.#swap(entry, file)
      this.#settleRefusal()
      this.#hashDue()
      this.#emit()
    } else if (this.#machine.can('replace')) {
      void this.#startOver(entry, file)
    }
  }

  /** `file` in the entry's place (a folder upload's file keeps its folder), to check and hash. */
  #swap(entry: Entry, file: File): void {
    stopHashing(entry)
    this.#keys.delete(fileKey(entry.name, entry.size, entry.lastModified))
    const name = `${entry.name.slice(0, entry.name.lastIndexOf('/') + 1)}${file.name}`
    const fresh = { ...chosenEntry(file, name), id: entry.id }
    this.#keys.add(fileKey(name, file.size, file.lastModified))
    this.#entries.set(fresh.id, fresh) // a key set again keeps its place in the list
    this.#check(fresh)
  }

  /** A changed file chosen again after its run was created: that run is cancelled, and every file
   *  waits for Upload to start a new one. */
  async #startOver(entry: Entry, file: File): Promise<void> {
    if (!this.#run) return
    const runId = this.#run.id
    this.#send('replace')
    try {
      await this.#deps.api.cancelRun(runId)
    } catch (error) {
      // a run that is gone or no longer pending has nothing left to cancel
      if (!hasCode(error, 'not_found', 'run_not_pending')) {
        this.#fail('cancelFailed', error)
        return
      }
    }
    this.#forgetActive()
    this.#transfer?.destroy()
    this.#transfer = null
    this.#run = null
    this.#overall.reset()
    for (const e of this.#entries.values()) {
      e.uploaded = 0
      e.fileId = e.uppyId = null
      e.target = null
      e.meter.reset()
      if (!e.file) {
        // sent before a reload, and not chosen again for the resume: the new run needs its bytes
        markChanged(e)
        e.error = `«${e.name}» was sent before the page was reloaded; choose it again for the new run.`
      } else if (!e.changed) {
        e.status = 'selected'
        e.error = null
      }
    }
    this.#swap(entry, file)
    this.#error = null
    this.#notice = `A file changed, so run ${shortId(runId)} was cancelled. Upload starts a new run with the new version.`
    this.#send('replaced')
    this.#hashDue()
  }

  // --- uploading ------------------------------------------------------------------------------

  async start(form: RunForm): Promise<void> {
    if (!this.#machine.can('start')) return
    if (this.#entries.size === 0) {
      this.#error = { title: 'Nothing to upload', message: 'Choose at least one file to upload.', details: [] }
      this.#emit()
      return
    }
    this.#offer = null // Upload pressed: a new run, not a resume
    if (this.#blocked()) return
    this.#error = null
    this.#notice = null
    this.#send('start')
    await this.#rulesAttempt
    if (!this.#machine.is('hashing')) return // cancelled meanwhile
    this.#checkAll() // the rules may have come only now
    if (this.#blocked()) {
      this.#send('refused')
      return
    }
    const entries = [...this.#entries.values()]
    this.#hashDue()
    this.#hashAgain(entries)
    const threshold = multipartThreshold(this.#rules)
    try {
      // Only the files that go in one PUT: the others are hashed while they upload.
      await Promise.all(entries.filter((e) => e.size <= threshold).map((e) => e.hashPromise))
    } catch (error) {
      if (this.#machine.is('hashing')) this.#hashFailed(entries, error)
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
        files: entries.map((e) => ({ name: e.name, size: e.size, content_type: e.contentType, sha256: e.sha256 })),
      })
    } catch (error) {
      this.#createFailed(entries, error)
      return
    }
    this.#run = created.run
    const pairs = pairFiles(entries, created.files)
    this.#setActive(recordFor(this.#apiUrl, created.run, pairs))
    this.#machine.send('created') // IGNORED while cancelling: then the run is cancelled at once
    if (this.#machine.is('cancelling')) return this.#cancelRun()
    for (const [entry, file] of pairs) {
      entry.fileId = file.id
      entry.target = { runId: created.run.id, fileId: file.id, key: file.key, upload: file.upload }
    }
    const transfer = this.#newTransfer()
    try {
      transfer.queue(entries)
    } catch (error) {
      this.#fail('queueFailed', error)
      return
    }
    transfer.upload()
    await this.#runTransfer()
  }

  #hashFailed(entries: Entry[], error: unknown): void {
    const changed = entries.filter((e) => e.changed).length
    this.#error = changed
      ? {
          title: DEFAULT_TITLE,
          message: `${fileCount(changed)} changed after being chosen: choose ${changed === 1 ? 'it' : 'them'} again (see the list).`,
          details: [],
        }
      : toErrorView(error)
    this.#send('hashFailed')
  }

  /** The API refused the run: its reasons about single files go next to them, the banner says so once. */
  #createFailed(entries: Entry[], error: unknown): void {
    const refusals = fileRefusals(error)
    if (!refusals) return this.#fail('createFailed', error)
    for (const [index, text] of refusals.files) if (entries[index]) entries[index].refusal = text
    this.#error = this.#refusedBanner = refusedView(refusals)
    this.#send('createFailed')
  }

  #newTransfer(): Transfer {
    this.#transfer?.destroy()
    this.#transfer = new Transfer(this.#deps, {
      overall: this.#overall,
      progress: () => this.#store.emitSoon(),
      changed: () => this.#emit(),
      stored: (entry) => this.#stored(entry),
      stopping: () => this.#machine.is('cancelling', 'cancelled'),
      sha256: (entry) => sha256Of(entry, this.#deps.hasher, this.#hashEvents),
    })
    return this.#transfer
  }

  /** Send until nothing is sent any more (retries started meanwhile included); then done or failed. */
  async #runTransfer(): Promise<void> {
    const transfer = this.#transfer
    if (!transfer) return
    this.#holdOrGo()
    this.#emit()
    const error = await transfer.settled()
    if (!this.#machine.is('uploading') || this.#transfer !== transfer) return // cancelled meanwhile
    this.#paused = this.#held = false
    if (error) this.#error = toErrorView(error)
    const entries = [...this.#entries.values()]
    const unfinished = entries.filter((e) => e.status !== 'uploaded')
    if (unfinished.length === 0) {
      this.#forgetActive()
      this.#send('finished')
      return
    }
    for (const e of unfinished) {
      if (e.status !== 'failed') {
        e.status = 'failed'
        e.error ??= 'The upload stopped before this file was sent.'
      }
    }
    const changed = unfinished.filter((e) => e.changed).length
    const lost = `${unfinished.length} of ${entries.length} files did not reach the bucket.`
    this.#error ??= {
      title: DEFAULT_TITLE,
      message:
        changed === unfinished.length
          ? `${lost} ${changed === 1 ? 'It' : 'They'} changed after being chosen: choose ${changed === 1 ? 'it' : 'them'} again (see the list).`
          : `${lost} Retry continues where they stopped${changed ? '; a file that changed must be chosen again (see the list)' : ''}.`,
      details: [],
    }
    this.#send('unfinished')
  }

  /** Retry every failed file (not a changed one: only choosing it again helps). */
  async retry(): Promise<void> {
    if (!this.#machine.can('retry')) return
    const failed = [...this.#entries.values()].filter((e) => e.status === 'failed' && !e.changed)
    if (failed.length) await this.#sendAgain(failed)
  }

  /** Retry one failed file: at once while others are still sent. */
  async retryFile(id: string): Promise<void> {
    const entry = this.#entries.get(id)
    if (!entry || entry.status !== 'failed' || entry.changed || !this.#transfer) return
    if (this.#machine.is('uploading')) {
      this.#hashAgain([entry])
      this.#transfer.retry([entry])
      this.#emit()
    } else if (this.#machine.can('retry')) {
      await this.#sendAgain([entry])
    }
  }

  /** Multipart files continue from the parts the bucket holds. */
  async #sendAgain(entries: Entry[]): Promise<void> {
    if (!this.#transfer) return
    this.#error = null
    this.#hashAgain(entries)
    this.#machine.send('retry')
    this.#transfer.retry(entries)
    await this.#runTransfer()
  }

  pauseAll(): void {
    if (!this.#machine.is('uploading') || this.#paused) return
    this.#paused = true
    this.#holdOrGo()
    this.#emit()
  }

  resumeAll(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#holdOrGo()
    this.#emit()
  }

  pauseFile(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry || !this.#machine.is('uploading') || (entry.status !== 'queued' && entry.status !== 'uploading')) return
    entry.status = 'paused'
    if (!this.#held) this.#transfer?.setPaused(entry, true)
    this.#emit()
  }

  resumeFile(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry || entry.status !== 'paused') return
    entry.status = entry.uploaded > 0 ? 'uploading' : 'queued'
    entry.meter.reset()
    if (!this.#held) this.#transfer?.setPaused(entry, false)
    this.#emit()
  }

  /** The uploader holds every file while paused or offline; otherwise it goes on with all of
   *  them but the ones paused one by one. */
  #holdOrGo(): void {
    const hold = this.#paused || !this.#network.online
    if (!this.#transfer || !this.#machine.is('uploading') || hold === this.#held) return
    this.#held = hold
    if (hold) {
      this.#transfer.pauseAll()
      return
    }
    this.#overall.reset()
    const paused: Entry[] = []
    for (const e of this.#entries.values()) {
      e.meter.reset()
      if (e.status === 'paused') paused.push(e)
    }
    this.#transfer.resumeAll(paused)
  }

  /** Stop sending and cancel the run (DELETE /v1/uploads/{run}): its multipart uploads are aborted. */
  async cancel(): Promise<void> {
    if (!this.#machine.can('cancel')) return
    const before = this.#machine.phase
    this.#send('cancel')
    // hashing: back to choosing files; creating: start() cancels the run as soon as it exists
    if (before === 'hashing' || before === 'creating') return
    this.#transfer?.cancel()
    this.#paused = this.#held = false
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
    this.#forgetActive()
    for (const e of this.#entries.values()) if (e.status !== 'uploaded') e.status = 'cancelled'
    this.#notice = 'Upload cancelled. The run is cancelled and its partial uploads removed from the bucket.'
    this.#send('cancelled')
  }

  /** Forget the files and the run, start over. A run left unfinished joins the unfinished runs. */
  reset(): void {
    if (!this.#machine.can('reset')) return
    this.#transfer?.destroy()
    this.#transfer = null
    this.#clearEntries()
    this.#run = null
    this.#error = null
    this.#notice = null
    this.#paused = this.#held = false
    this.#overall.reset()
    this.#leaveActive()
    this.#send('reset')
  }

  #clearEntries(): void {
    for (const e of this.#entries.values()) stopHashing(e)
    this.#entries = new Map()
    this.#keys = new Set()
    this.#offer = null
  }

  dismissError(): void {
    this.#error = null
    this.#emit()
  }

  // --- the run being uploaded, kept for a resume ----------------------------------------------

  #setActive(record: ResumeRecord): void {
    this.#active = { record, files: new Map(record.files.map((f) => [f.fileId, f])) }
    this.#deps.store.save(record)
    this.#reloadUnfinished()
  }

  /** A file is in the bucket: a resume need not ask for it. Saved once a second at most (a run of
   *  1,000 small files would otherwise write its record 1,000 times). */
  #stored(entry: Entry): void {
    const file = entry.fileId ? this.#active?.files.get(entry.fileId) : undefined
    if (!file) return
    file.done = true
    this.#activeSaveTimer ??= setTimeout(() => this.#saveActive(), 1000)
  }

  #saveActive(): void {
    if (this.#activeSaveTimer) clearTimeout(this.#activeSaveTimer)
    this.#activeSaveTimer = null
    if (this.#active) this.#deps.store.save({ ...this.#active.record, savedAt: new Date().toISOString() })
  }

  /** The run finished or is cancelled: nothing to resume. */
  #forgetActive(): void {
    if (this.#activeSaveTimer) clearTimeout(this.#activeSaveTimer)
    this.#activeSaveTimer = null
    if (this.#active) this.#deps.store.forget(this.#apiUrl, this.#active.record.runId)
    this.#active = null
  }

  /** The session lets go of its run; unfinished, it is listed with the others. */
  #leaveActive(): void {
    if (this.#activeSaveTimer) this.#saveActive()
    this.#active = null
    this.#reloadUnfinished()
  }

  // --- unfinished runs ------------------------------------------------------------------------

  #reloadUnfinished(): void {
    const active = this.#active?.record.runId
    this.#unfinished = this.#deps.store
      .list(this.#apiUrl)
      .filter((r) => r.runId !== active)
      .map(unfinishedRun)
  }

  async refreshUnfinished(): Promise<void> {
    const active = this.#active?.record.runId
    const records = this.#deps.store.list(this.#apiUrl).filter((r) => r.runId !== active)
    await Promise.all(records.map((r) => this.#recheck(r)))
    this.#reloadUnfinished()
    this.#emit()
  }

  /** Forget a run that is no longer pending; note the files it holds already. */
  async #recheck(record: ResumeRecord): Promise<void> {
    let run
    try {
      run = await this.#deps.api.getRun(record.runId)
    } catch (error) {
      if (hasCode(error, 'not_found')) this.#deps.store.forget(this.#apiUrl, record.runId)
      return // unreachable for now: kept, asked again next time
    }
    if (run.status !== 'pending') {
      this.#deps.store.forget(this.#apiUrl, record.runId)
      return
    }
    const finished = new Set(run.files.filter((f) => f.status !== 'pending').map((f) => f.id))
    if (record.files.some((f) => !f.done && finished.has(f.fileId))) {
      this.#deps.store.save({ ...record, files: record.files.map((f) => (finished.has(f.fileId) ? { ...f, done: true } : f)) })
    }
  }

  async resumeWith(runId: string, files: Iterable<Chosen>): Promise<void> {
    if (this.#machine.is('done', 'cancelled')) this.reset()
    if (!this.#machine.is('idle')) return
    if (this.#entries.size) {
      this.#error = { title: 'Cannot resume now', message: 'Upload or remove the files chosen for a new run first.', details: [] }
      this.#emit()
      return
    }
    const resumable = this.#resumable(runId, files)
    if ('title' in resumable) {
      this.#error = resumable
      this.#emit()
      return
    }
    await this.#resume(resumable.record, resumable.match)
  }

  /** The run's record and the files matched to it, or why they cannot resume it. */
  #resumable(runId: string, files: Iterable<Chosen>): { record: ResumeRecord; match: MatchResult } | ErrorView {
    const record = this.#deps.store.get(this.#apiUrl, runId)
    if (!record) {
      this.#reloadUnfinished()
      return { title: 'Cannot resume this upload', message: 'It is no longer listed: it finished, or was cancelled meanwhile.', details: [] }
    }
    const match = matchFiles(record, [...files].map(unwrap))
    return resumeProblem(match) ?? { record, match }
  }

  async #resume(record: ResumeRecord, match: MatchResult): Promise<void> {
    const runId = record.runId
    this.#error = null
    this.#notice = null
    this.#send('resume')
    let run
    try {
      run = await this.#deps.api.getRun(runId)
    } catch (error) {
      if (hasCode(error, 'not_found')) this.#endResume(runId, `Run ${shortId(runId)} no longer exists; nothing to resume.`)
      else this.#fail('resumeEnded', error) // kept among the unfinished runs, to try again
      return
    }
    if (run.status !== 'pending') {
      this.#endResume(runId, `Run ${shortId(runId)} is ${run.status}; nothing to resume.`)
      return
    }
    const { files: _files, ...summary } = run
    this.#run = summary
    this.#setActive(record)
    this.#machine.send('created') // IGNORED while cancelling: then the run is cancelled at once
    if (this.#machine.is('cancelling')) return this.#cancelRun()
    const entries = resumedEntries(record, run, match.matched)
    this.#entries = new Map(entries.map((e) => [e.id, e]))
    this.#keys = new Set(entries.map((e) => fileKey(e.name, e.size, e.lastModified)))
    this.#overall.reset()
    const transfer = this.#newTransfer()
    try {
      transfer.queue(
        entries.filter((e) => e.status !== 'uploaded' && e.file),
        true,
      )
    } catch (error) {
      this.#fail('queueFailed', error)
      return
    }
    this.#notice = `Resuming run ${shortId(runId)}: parts already in the bucket are skipped.`
    transfer.upload()
    await this.#runTransfer()
  }

  #endResume(runId: string, notice: string): void {
    this.#deps.store.forget(this.#apiUrl, runId)
    this.#reloadUnfinished()
    this.#notice = notice
    this.#send('resumeEnded')
  }

  async discard(runId: string): Promise<void> {
    if (runId === this.#active?.record.runId || this.#discarding.has(runId)) return
    if (!this.#deps.store.get(this.#apiUrl, runId)) return
    this.#discarding.add(runId)
    try {
      await this.#deps.api.cancelRun(runId)
    } catch (error) {
      // a run that is gone or no longer pending has nothing left to cancel
      if (!hasCode(error, 'not_found', 'run_not_pending')) {
        this.#error ??= { ...toErrorView(error), title: 'The unfinished upload could not be cancelled' }
        this.#emit()
        return
      }
    } finally {
      this.#discarding.delete(runId)
    }
    this.#deps.store.forget(this.#apiUrl, runId)
    this.#reloadUnfinished()
    this.#notice = `Unfinished upload cancelled: run ${shortId(runId)} and its partial uploads are removed.`
    this.#emit()
  }

  async acceptOffer(): Promise<void> {
    const offer = this.#offer
    if (!offer || !this.#machine.is('idle')) return
    const picked = [...this.#entries.values()].flatMap((e) => (e.file ? [{ file: e.file, path: e.name }] : []))
    const resumable = this.#resumable(offer.runId, picked)
    if ('title' in resumable) {
      // the files stay, to upload as a new run instead
      this.#error = resumable
      this.declineOffer()
      return
    }
    this.#clearEntries()
    await this.#resume(resumable.record, resumable.match)
  }

  declineOffer(): void {
    if (!this.#offer) return
    this.#offer = null
    this.#hashDue()
    this.#emit()
  }

  destroy(): void {
    if (this.#activeSaveTimer) this.#saveActive()
    if (this.#rulesTimer) clearTimeout(this.#rulesTimer)
    this.#unsubscribe()
    this.#store.destroy()
    this.#transfer?.destroy()
    for (const e of this.#entries.values()) stopHashing(e)
  }
}
