// Uppy, wired to Inlet's API. The server creates the run and every multipart upload up front
// (POST /v1/uploads), so Uppy's S3 hooks never create anything: they hand Uppy the upload ids
// the server already made, sign parts on demand through POST .../parts, list the parts the
// bucket holds to resume, and complete through POST .../complete, declaring the file's sha256
// (hashed while the parts were on the wire: completing waits for it). Uppy cuts each file into the
// server's parts (checked against the plan: parts.ts), keeps 4 requests in flight, pauses while
// the browser is offline and reports progress.
//
// Retries follow the page's one rule (lib/retry.ts), here and nowhere else: Uppy's own retries
// are turned off (`retryDelays: []`), and every byte sender retries by the rule, a part with a
// freshly signed URL each time, a single PUT with its one URL.

import AwsS3, { type AwsS3Part, type AwsS3UploadParameters } from '@uppy/aws-s3'
import Uppy, { type Body, type Meta, type UppyFile } from '@uppy/core'
import { type ApiClient, hasCode } from '../lib/api'
import { RETRY_DELAYS, statusOf, type Wait, withRetry } from '../lib/retry'
import type { StoredPart, Upload } from '../lib/types'
import { FileChanged, unreadable } from './errors'
import { assertServerPlan, partSlices } from './parts'
import { PartSigner } from './signer'

export type InletMeta = Meta & { inletFileId: string }
export type InletBody = Body
export type InletUppy = Uppy<InletMeta, InletBody>
export type InletUppyFile = UppyFile<InletMeta, InletBody>

/** Where one file goes: its run, its file id and key, and the upload the server planned. */
export interface Target {
  runId: string
  fileId: string
  key: string
  upload: Upload
}

export type UploadPartBytes = (typeof AwsS3)['uploadPartBytes']

export interface UploaderOptions {
  /** Requests in flight at once (parts and API calls): 4, as the issue asks. */
  limit?: number
  retryDelays?: readonly number[]
  /** Sends bytes; the default is Uppy's XMLHttpRequest sender. Tests replace it. */
  uploadPartBytes?: UploadPartBytes
  /** Called when resuming finds parts already in the bucket. */
  onPartsFound?: (fileId: string, parts: StoredPart[]) => void
  /** The file's sha256, declared when it is completed: hashed while its parts were sent, so
   * completing waits for it. Without it, the sha256 declared at creation stands. */
  sha256Of?: (fileId: string) => Promise<string>
  wait?: Wait
  /** Uppy's logger; by default errors go to the console. */
  logger?: { debug: (...args: unknown[]) => void; warn: (...args: unknown[]) => void; error: (...args: unknown[]) => void }
}

/** The upload id and part number of a presigned part URL, or null for a single PUT's URL. */
export function partOfUrl(url: string): { uploadId: string; partNumber: number } | null {
  const params = new URL(url, 'http://x').searchParams
  const uploadId = params.get('uploadId')
  const partNumber = Number(params.get('partNumber'))
  return uploadId && Number.isInteger(partNumber) && partNumber > 0 ? { uploadId, partNumber } : null
}

/** A fresh presigned URL for a part that is sent again. */
export type FreshPartUrl = (uploadId: string, partNumber: number, signal?: AbortSignal) => Promise<string>

/**
 * A byte sender that retries by the page's rule: a part with a fresh URL from `freshPartUrl`
 * (a URL is used once: an expired or spent one heals itself), a single PUT with its one URL.
 *
 * A single PUT's URL signs `If-None-Match: *` (the server's `upload.headers`), so the bucket
 * never replaces an object: 412 means one is at the file's key already. Only this file's URL
 * writes there (or the server, when it closes a cancelled or expired run, which this page has
 * stopped uploading to by then): an earlier attempt went in and its answer was lost, or the page
 * was reloaded before it saved that. The file counts as sent; the server verifies its bytes.
 *
 * A file that changed on disk after it was chosen fails like a lost connection (status 0, in
 * Chrome): when its bytes cannot be read any more, it fails at once with FileChanged, which no
 * retry can help.
 */
export function retryingSend(
  send: UploadPartBytes,
  freshPartUrl: FreshPartUrl,
  delays: readonly number[] = RETRY_DELAYS,
  wait?: Wait,
): UploadPartBytes {
  return (options) => {
    let signature = options.signature
    return withRetry(
      async (attempt) => {
        const part = partOfUrl(signature.url)
        if (attempt > 0 && part) {
          signature = { ...signature, url: await freshPartUrl(part.uploadId, part.partNumber, options.signal) }
        }
        try {
          return await send({ ...options, signature })
        } catch (error) {
          if (statusOf(error) === 0 && options.body instanceof Blob && (await unreadable(options.body))) throw new FileChanged()
          if (part || statusOf(error) !== 412) throw error
          const size = options.size ?? (options.body instanceof Blob ? options.body.size : 0)
          options.onProgress?.({ loaded: size, lengthComputable: true })
          options.onComplete?.('')
          return { ETag: '' }
        }
      },
      { delays, signal: options.signal, wait },
    )
  }
}

export class BucketUploader {
  readonly uppy: InletUppy
  readonly #api: ApiClient
  readonly #targets = new Map<string, Target>()
  readonly #signers = new Map<string, PartSigner>()
  readonly #partSizes = new WeakMap<Blob, number>()
  readonly #sizes = new Map<string, number>()
  readonly #completed = new Set<string>()
  readonly #options: UploaderOptions
  readonly #delays: readonly number[]

  constructor(api: ApiClient, options: UploaderOptions = {}) {
    this.#api = api
    this.#options = options
    this.#delays = options.retryDelays ?? RETRY_DELAYS
    this.uppy = new Uppy<InletMeta, InletBody>({
      autoProceed: false,
      allowMultipleUploadBatches: true,
      ...(options.logger ? { logger: options.logger } : {}),
    })
    const send = options.uploadPartBytes ?? AwsS3.uploadPartBytes
    this.uppy.use(AwsS3<InletMeta, InletBody>, {
      limit: options.limit ?? 4,
      // Uppy retries nothing by itself: the senders and the signer retry by the page's rule.
      // (Uppy still pauses while the browser is offline and goes on when it is back.)
      retryDelays: [],
      uploadPartBytes: retryingSend(send, (uploadId, n, signal) => this.#freshPartUrl(uploadId, n, signal), this.#delays, options.wait),
      shouldUseMultipart: (file) => this.#target(file).upload.method === 'multipart',
      getChunkSize: (data) => this.#partSizes.get(data as Blob) ?? Math.max(data.size, 1),
      getUploadParameters: (file) => this.#singlePut(file),
      createMultipartUpload: (file) => {
        const target = this.#target(file)
        if (target.upload.method !== 'multipart') throw new Error('not a multipart upload')
        return { uploadId: target.upload.upload_id, key: target.key }
      },
      signPart: async (file, { partNumber, signal }) => {
        const url = await this.#signer(file).url(partNumber, signal)
        return { method: 'PUT', url } satisfies AwsS3UploadParameters
      },
      listParts: (file, { signal }) => this.#listParts(file, signal),
      completeMultipartUpload: (file, { parts, signal }) => this.#complete(file, parts, signal),
      // Nothing to do per file: the run is cancelled as a whole (DELETE /v1/uploads/{run}),
      // which aborts its multipart uploads, and a failed file keeps its upload so it can resume.
      abortMultipartUpload: () => undefined,
    })
  }

  /** Queue a file for its target. `resume` asks the bucket which parts it already holds. */
  add(file: File, target: Target, resume = false): string {
    return this.addAll([{ file, target }], resume)[0]
  }

  /**
   * Queue files for their targets, all at once: Uppy copies its list of files on every change, so
   * adding 1,000 files one by one would copy it 1,000 times. Throws, adding none, when a plan
   * cannot be followed.
   */
  addAll(items: { file: File; target: Target }[], resume = false): string[] {
    for (const { file, target } of items) {
      // Uppy cuts the file by the server's part size; a plan it would cut otherwise is refused.
      if (target.upload.method === 'multipart') assertServerPlan(file.size, target.upload)
    }
    for (const { file, target } of items) {
      if (target.upload.method === 'multipart') this.#partSizes.set(file, target.upload.part_size)
      this.#sizes.set(target.fileId, file.size)
    }
    this.uppy.addFiles(
      items.map(({ file, target }) => ({
        name: file.name,
        type: file.type || 'application/octet-stream',
        data: file,
        source: 'Local',
        // Uppy's id is made of the name, type, size, date and relativePath: the file id keeps two
        // files that only differ by their folder apart.
        meta: { inletFileId: target.fileId, relativePath: target.fileId },
      })),
    )
    const ids = new Map(this.uppy.getFiles().map((f) => [f.meta.inletFileId, f.id]))
    const resumed: Record<string, Partial<InletUppyFile>> = {}
    const added = items.map(({ file, target }) => {
      const id = ids.get(target.fileId)
      if (!id) throw new Error(`${file.name} could not be queued`)
      this.#targets.set(id, target)
      if (resume && target.upload.method === 'multipart') {
        resumed[id] = { s3Multipart: { uploadId: target.upload.upload_id, key: target.key } } as Partial<InletUppyFile>
      }
      return id
    })
    if (Object.keys(resumed).length) this.uppy.patchFilesState(resumed)
    return added
  }

  target(uppyFileId: string): Target | undefined {
    return this.#targets.get(uppyFileId)
  }

  upload() {
    return this.uppy.upload()
  }

  /** Send these failed files again (and only these: a changed file is not among them);
   *  multipart ones continue from the parts the bucket holds. */
  retry(uppyFileIds: string[]) {
    for (const id of uppyFileIds) {
      const target = this.#targets.get(id)
      if (target?.upload.method === 'multipart') {
        this.uppy.setFileState(id, {
          s3Multipart: { uploadId: target.upload.upload_id, key: target.key },
        } as Partial<InletUppyFile>)
      }
    }
    return Promise.all(uppyFileIds.map((id) => this.uppy.retryUpload(id)))
  }

  /** Stop every file's requests where they are; resumeAll() goes on (a single PUT from its start). */
  pauseAll(): void {
    this.uppy.pauseAll()
  }

  resumeAll(): void {
    this.uppy.resumeAll()
  }

  /** Pause or go on with one file. */
  setPaused(uppyFileId: string, paused: boolean): void {
    const file = this.uppy.getFile(uppyFileId)
    if (file && Boolean(file.isPaused) !== paused) this.uppy.pauseResume(uppyFileId)
  }

  cancel(): void {
    this.uppy.cancelAll()
  }

  destroy(): void {
    this.uppy.cancelAll()
    this.uppy.destroy()
  }

  #target(file: { id: string }): Target {
    const target = this.#targets.get(file.id)
    if (!target) throw new Error(`no upload planned for file ${file.id}`)
    return target
  }

  #signer(file: { id: string }): PartSigner {
    let signer = this.#signers.get(file.id)
    if (!signer) {
      const { runId, fileId, upload } = this.#target(file)
      if (upload.method !== 'multipart') throw new Error('not a multipart upload')
      signer = new PartSigner(
        (numbers, signal) => this.#api.signParts(runId, fileId, numbers, signal),
        upload.part_count,
        upload.parts,
        { retryDelays: this.#delays, wait: this.#options.wait },
      )
      this.#signers.set(file.id, signer)
    }
    return signer
  }

  #freshPartUrl(uploadId: string, partNumber: number, signal?: AbortSignal): Promise<string> {
    for (const [id, target] of this.#targets) {
      if (target.upload.method === 'multipart' && target.upload.upload_id === uploadId) {
        return this.#signer({ id }).url(partNumber, signal)
      }
    }
    return Promise.reject(new Error(`no multipart upload ${uploadId} on this page`))
  }

  #singlePut(file: { id: string }): AwsS3UploadParameters {
    const { upload, fileId } = this.#target(file)
    if (upload.method !== 'PUT') throw new Error('not a single PUT upload')
    if (Date.parse(upload.expires_at) <= Date.now()) {
      throw new Error(
        `The upload link for this file expired at ${upload.expires_at} (file ${fileId}); cancel this run and upload again.`,
      )
    }
    return { method: 'PUT', url: upload.url, headers: upload.headers }
  }

  #retryApi<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, { delays: this.#delays, signal, wait: this.#options.wait })
  }

  async #listParts(file: { id: string }, signal?: AbortSignal): Promise<AwsS3Part[]> {
    const { runId, fileId, upload } = this.#target(file)
    let parts: StoredPart[]
    try {
      parts = await this.#retryApi(() => this.#api.listParts(runId, fileId, signal), signal)
    } catch (error) {
      if (!hasCode(error, 'upload_completed') || upload.method !== 'multipart') throw error
      // Completed before the page was reloaded: every part of the plan is in, nothing to send.
      this.#completed.add(fileId)
      parts = partSlices(this.#sizes.get(fileId) ?? 0, upload).map((p) => ({
        part_number: p.partNumber,
        etag: '"completed"',
        size: p.end - p.start,
      }))
    }
    if (parts.length) this.#options.onPartsFound?.(fileId, parts)
    return parts.map((p) => ({ PartNumber: p.part_number, ETag: p.etag, Size: p.size }))
  }

  async #complete(file: { id: string }, parts: AwsS3Part[], signal?: AbortSignal): Promise<{ location: string }> {
    const { runId, fileId, key } = this.#target(file)
    if (this.#completed.has(fileId)) return { location: key }
    const body = parts
      .map((p) => ({ part_number: Number(p.PartNumber), etag: String(p.ETag) }))
      .sort((a, b) => a.part_number - b.part_number)
    const sha256 = await this.#options.sha256Of?.(fileId)
    await this.#retryApi(async () => {
      try {
        await this.#api.completeUpload(runId, fileId, body, sha256, signal)
      } catch (error) {
        // A retry after a lost answer: the first attempt did complete it.
        if (!hasCode(error, 'upload_completed')) throw error
      }
    }, signal)
    this.#completed.add(fileId)
    return { location: key }
  }
}
