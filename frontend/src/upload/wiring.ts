// The session's side of Uppy: queues the entries' files on a BucketUploader (uppy.ts), turns
// Uppy's events into the entries' status and progress, samples the speed, and runs an upload or
// a retry to its end.

import type { ApiClient } from '../lib/api'
import type { StoredPart } from '../lib/types'
import type { Entry } from './entries'
import { describeUploadError } from './errors'
import type { SpeedMeter } from './progress'
import { BucketUploader, type UploaderOptions } from './uppy'

export interface TransferDeps {
  api: ApiClient
  /** Builds the uploader; tests pass options such as a fake byte sender. */
  makeUploader?: (api: ApiClient, options: UploaderOptions) => BucketUploader
  uploaderOptions?: UploaderOptions
  /** Milliseconds between speed samples while uploading. */
  tickMs?: number
}

export interface TransferHooks {
  /** The entries of the session, looked up on every event. */
  entries: () => Entry[]
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
  #ticker: ReturnType<typeof setInterval> | null = null

  constructor(deps: TransferDeps, hooks: TransferHooks) {
    this.#hooks = hooks
    this.#tickMs = deps.tickMs ?? 1000
    const options: UploaderOptions = {
      ...deps.uploaderOptions,
      onPartsFound: (fileId, parts) => this.#partsFound(fileId, parts),
      sha256Of: (fileId) => {
        const entry = this.#byFileId(fileId)
        return entry ? hooks.sha256(entry) : Promise.reject(new Error(`no file ${fileId} on this page`))
      },
    }
    const make = deps.makeUploader ?? ((api, opts) => new BucketUploader(api, opts))
    this.#uploader = make(deps.api, options)
    const uppy = this.#uploader.uppy
    uppy.on('upload-progress', (file, progress) => {
      const entry = this.#byUppyId(file?.id)
      if (!entry || entry.status === 'uploaded') return
      if (entry.status !== 'uploading') void hooks.sha256(entry) // its bytes go: hash it meanwhile
      entry.status = 'uploading'
      entry.uploaded = Math.min(entry.size, progress.bytesUploaded || 0)
      entry.meter.update(entry.uploaded)
      hooks.overall.update(this.#uploadedBytes())
      hooks.progress()
    })
    uppy.on('upload-success', (file) => {
      const entry = this.#byUppyId(file?.id)
      if (!entry) return
      entry.status = 'uploaded'
      entry.uploaded = entry.size
      entry.error = null
      hooks.stored(entry)
      hooks.changed()
    })
    uppy.on('upload-error', (file, error) => {
      const entry = this.#byUppyId(file?.id)
      if (!entry || hooks.stopping()) return
      entry.status = 'failed'
      entry.error = describeUploadError(error)
      hooks.changed()
    })
  }

  /** Queue an entry's file for its target; throws when its plan cannot be followed. */
  queue(entry: Entry, resume = false): void {
    if (!entry.file || !entry.target) throw new Error(`${entry.name} has nothing to upload`)
    entry.uppyId = this.#uploader.add(entry.file, entry.target, resume)
    entry.status = 'queued'
  }

  /** Send every queued file ('upload') or the failed ones again ('retry'); resolves with the error that stopped it, if any. */
  async run(kind: 'upload' | 'retry'): Promise<unknown> {
    this.#ticker ??= setInterval(this.#tick, this.#tickMs)
    try {
      await (kind === 'upload' ? this.#uploader.upload() : this.#uploader.retry())
      return null
    } catch (error) {
      return error ?? new Error('The upload failed.')
    } finally {
      this.#stopTicker()
    }
  }

  cancel(): void {
    this.#uploader.cancel()
  }

  destroy(): void {
    this.#stopTicker()
    this.#uploader.destroy()
  }

  #byUppyId(id: string | undefined): Entry | undefined {
    return id === undefined ? undefined : this.#hooks.entries().find((e) => e.uppyId === id)
  }

  #byFileId(fileId: string): Entry | undefined {
    return this.#hooks.entries().find((e) => e.fileId === fileId)
  }

  #uploadedBytes(): number {
    return this.#hooks.entries().reduce((n, e) => n + e.uploaded, 0)
  }

  /** Parts the bucket held when resuming were not sent now: leave them out of the speed. */
  #partsFound(fileId: string, parts: StoredPart[]): void {
    const bytes = parts.reduce((n, p) => n + p.size, 0)
    this.#byFileId(fileId)?.meter.discount(bytes)
    this.#hooks.overall.discount(bytes)
  }

  /** Sample progress every second too, so the speed falls to 0 when the network stalls. */
  #tick = (): void => {
    for (const e of this.#hooks.entries()) if (e.status === 'uploading') e.meter.update(e.uploaded)
    this.#hooks.overall.update(this.#uploadedBytes())
    this.#hooks.changed()
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker)
    this.#ticker = null
  }
}
