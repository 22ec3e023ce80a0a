// The session's side of Uppy: queues the entries' files on a BucketUploader (uppy.ts), turns
// Uppy's events into the entries' status and progress (an entry is found by its Uppy id, never by
// scanning them all), samples the speed, notes when bytes last moved, pauses and goes on, and
// runs an upload, and the retries started meanwhile, to their end.

import type { ApiClient } from '../lib/api'
import type { StoredPart } from '../lib/types'
import { type Entry, markChanged } from './entries'
import { describeUploadError, isFileChanged } from './errors'
import type { SpeedMeter } from './progress'
import { BucketUploader, type UploaderOptions } from './uppy'

export interface TransferDeps {
  api: ApiClient
  /** Builds the uploader; tests pass options such as a fake byte sender. */
  makeUploader?: (api: ApiClient, options: UploaderOptions) => BucketUploader
  uploaderOptions?: UploaderOptions
  /** Milliseconds between speed samples while uploading. */
  tickMs?: number
  /** The clock of the speeds and of "no byte moved for a while" (milliseconds). */
  now?: () => number
}

export interface TransferHooks {
  /** Speed of the session as a whole. */
  overall: SpeedMeter
  /** Progress moved (throttled by the caller). */
  progress: () => void
  /** Something a person should see at once changed. */
  changed: () => void
  /** All of this entry's bytes are in the bucket. */
  stored: (entry: Entry) => void
  /** The session is cancelling: failures now are the cancel's, not the files'. */
  stopping: () => boolean
  /** The entry's sha256, hashing it now if it waited for its upload to start. */
  sha256: (entry: Entry) => Promise<string>
}

export class Transfer {
  readonly #uploader: BucketUploader
  readonly #hooks: TransferHooks
  readonly #tickMs: number
  readonly #now: () => number
  readonly #byUppyId = new Map<string, Entry>()
  readonly #byFileId = new Map<string, Entry>()
  /** The upload and the retries under way; `settled` waits for all of them. */
  readonly #work = new Set<Promise<void>>()
  #error: unknown = null
  /** Bytes of the queued files that are in the bucket or on their way. */
  #uploaded = 0
  #movedAt: number
  #ticker: ReturnType<typeof setInterval> | null = null

  constructor(deps: TransferDeps, hooks: TransferHooks) {
    this.#hooks = hooks
    this.#tickMs = deps.tickMs ?? 1000
    this.#now = deps.now ?? (() => performance.now())
    this.#movedAt = this.#now()
    const options: UploaderOptions = {
      ...deps.uploaderOptions,
      onPartsFound: (fileId, parts) => this.#partsFound(fileId, parts),
      sha256Of: (fileId) => {
        const entry = this.#byFileId.get(fileId)
        return entry ? hooks.sha256(entry) : Promise.reject(new Error(`no file ${fileId} on this page`))
      },
    }
    const make = deps.makeUploader ?? ((api, opts) => new BucketUploader(api, opts))
    this.#uploader = make(deps.api, options)
    const uppy = this.#uploader.uppy
    uppy.on('upload-progress', (file, progress) => {
      const entry = this.#entry(file)
      // a paused or failed file's last events come from requests already stopped
      if (!entry || entry.status === 'uploaded' || entry.status === 'paused' || entry.status === 'failed') return
      if (entry.status !== 'uploading') void hooks.sha256(entry) // its bytes go: hash it meanwhile
      entry.status = 'uploading'
      const bytes = Math.min(entry.size, progress.bytesUploaded || 0)
      if (bytes > entry.uploaded) this.#movedAt = this.#now()
      this.#setUploaded(entry, bytes)
      entry.meter.update(bytes)
      hooks.overall.update(this.#uploaded)
      hooks.progress()
    })
    uppy.on('upload-success', (file) => {
      const entry = this.#entry(file)
      if (!entry) return
      entry.status = 'uploaded'
      this.#setUploaded(entry, entry.size)
      entry.error = null
      this.#movedAt = this.#now()
      hooks.stored(entry)
      hooks.progress() // throttled: 1,000 small files finish within a few seconds

    })
    uppy.on('upload-error', (file, error) => {
      const entry = this.#entry(file)
      if (!entry || hooks.stopping()) return
      if (isFileChanged(error)) markChanged(entry)
      else {
        entry.status = 'failed'
        entry.error = describeUploadError(error)
      }
      hooks.changed()
    })
  }

  /** Queue the entries' files for their targets; throws, queuing none, when a plan cannot be followed. */
  queue(entries: Entry[], resume = false): void {
    const items = entries.map((entry) => {
      if (!entry.file || !entry.target) throw new Error(`${entry.name} has nothing to upload`)
      return { file: entry.file, target: entry.target }
    })
    const ids = this.#uploader.addAll(items, resume)
    entries.forEach((entry, i) => {
      entry.uppyId = ids[i]
      entry.status = 'queued'
      this.#byUppyId.set(ids[i], entry)
      this.#byFileId.set(items[i].target.fileId, entry)
      this.#uploaded += entry.uploaded
    })
  }

  /** Send every queued file. */
  upload(): void {
    this.#track(this.#uploader.upload())
  }

  /** Send these failed files again, now (while others are still sent, too). */
  retry(entries: Entry[]): void {
    const ids: string[] = []
    for (const e of entries) {
      if (!e.uppyId) continue
      e.status = 'queued'
      e.error = null
      ids.push(e.uppyId)
    }
    if (ids.length) this.#track(this.#uploader.retry(ids))
  }

  /** Resolves once nothing is being sent any more, with the error that stopped the uploader, if any. */
  async settled(): Promise<unknown> {
    this.#ticker ??= setInterval(this.#tick, this.#tickMs)
    this.#movedAt = this.#now()
    try {
      while (this.#work.size) await Promise.all(this.#work)
      return this.#error
    } finally {
      this.#error = null
      this.#stopTicker()
    }
  }

  /** Milliseconds since a byte last moved. */
  stillFor(): number {
    return this.#now() - this.#movedAt
  }

  pauseAll(): void {
    this.#uploader.pauseAll()
  }

  /** Go on with every file but `held` (paused one by one). */
  resumeAll(held: Iterable<Entry>): void {
    this.#uploader.resumeAll()
    for (const entry of held) this.setPaused(entry, true)
    this.#movedAt = this.#now()
  }

  setPaused(entry: Entry, paused: boolean): void {
    if (entry.uppyId) this.#uploader.setPaused(entry.uppyId, paused)
    if (!paused) this.#movedAt = this.#now()
  }

  cancel(): void {
    this.#uploader.cancel()
  }

  destroy(): void {
    this.#stopTicker()
    this.#uploader.destroy()
  }

  #track(work: Promise<unknown>): void {
    const tracked: Promise<void> = work
      .then(
        () => undefined,
        (error: unknown) => {
          this.#error ??= error ?? new Error('The upload failed.')
        },
      )
      .finally(() => this.#work.delete(tracked))
    this.#work.add(tracked)
  }

  #entry(file: { id: string } | undefined): Entry | undefined {
    return file && this.#byUppyId.get(file.id)
  }

  #setUploaded(entry: Entry, bytes: number): void {
    this.#uploaded += bytes - entry.uploaded
    entry.uploaded = bytes
  }

  /** Parts the bucket held when resuming were not sent now: leave them out of the speed. */
  #partsFound(fileId: string, parts: StoredPart[]): void {
    const bytes = parts.reduce((n, p) => n + p.size, 0)
    this.#byFileId.get(fileId)?.meter.discount(bytes)
    this.#hooks.overall.discount(bytes)
  }

  /** Sample progress every second too, so the speed falls to 0 when the network stalls. */
  #tick = (): void => {
    for (const e of this.#byUppyId.values()) if (e.status === 'uploading') e.meter.update(e.uploaded)
    this.#hooks.overall.update(this.#uploaded)
    this.#hooks.changed()
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker)
    this.#ticker = null
  }
}
