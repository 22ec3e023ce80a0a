// Uppy, wired to Inlet's API. The server creates the run and every multipart upload up front
// (POST /v1/uploads), so Uppy's S3 hooks never create anything: they hand Uppy the upload ids
// the server already made, sign parts on demand through POST .../parts, list the parts the
// bucket holds to resume, and complete through POST .../complete. Uppy does the rest: cutting
// files into the server's parts, several parts in flight, per-part retries with a fresh URL,
// pausing while the browser is offline, progress events.

import AwsS3, { type AwsS3Part, type AwsS3UploadParameters } from '@uppy/aws-s3'
import Uppy, { type Body, type Meta, type UppyFile } from '@uppy/core'
import { type ApiClient, ApiError } from '../lib/api'
import type { StoredPart, Upload } from '../lib/types'
import { assertServerPlan, planParts } from './parts'
import { RETRY_DELAYS, isTransientStatus, withRetry } from './retry'
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
  /** Part URLs signed per request. */
  signBatch?: number
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Uppy's logger; by default errors go to the console. */
  logger?: { debug: (...args: unknown[]) => void; warn: (...args: unknown[]) => void; error: (...args: unknown[]) => void }
}

/** The HTTP status of an error thrown while sending bytes, if there is one. */
export function statusOf(error: unknown): number | null {
  const source = (error as { source?: { status?: unknown } } | null)?.source
  return typeof source?.status === 'number' ? source.status : null
}

function isPartUrl(url: string): boolean {
  const params = new URL(url, 'http://x').searchParams
  return params.has('partNumber') && params.has('uploadId')
}

/**
 * Uppy retries parts itself (asking us for a fresh URL each time) but sends a single PUT only
 * once; this adds retries with backoff for single PUTs that fail transiently.
 */
export function retryingSinglePut(
  send: UploadPartBytes,
  delays: readonly number[] = RETRY_DELAYS,
  wait?: UploaderOptions['wait'],
): UploadPartBytes {
  return (options) => {
    if (isPartUrl(options.signature.url)) return send(options)
    return withRetry(() => send(options), {
      delays,
      signal: options.signal,
      wait,
      shouldRetry: (error) => {
        const status = statusOf(error)
        return status !== null && isTransientStatus(status)
      },
    })
  }
}

/** The API's answer when a multipart upload was completed already (409). */
export function alreadyCompleted(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && /already completed/i.test(error.message)
}

/** A message fit for a person, for anything an upload can throw. */
export function describeUploadError(error: unknown): string {
  if (error instanceof ApiError) return error.message
  const status = statusOf(error)
  if (status === 0) return 'The connection to the bucket was lost; retry to continue where it stopped.'
  if (status !== null) {
    const text = (error as { source?: { responseText?: string } }).source?.responseText ?? ''
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
    return `The bucket refused the upload (HTTP ${status}${message ? `: ${message}` : ''}).`
  }
  if (error instanceof Error && error.message) return error.message
  return 'The upload failed.'
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
      retryDelays: [...this.#delays],
      uploadPartBytes: retryingSinglePut(send, this.#delays, options.wait),
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
    if (target.upload.method === 'multipart') {
      assertServerPlan(file.size, target.upload.part_size, target.upload.part_count)
      this.#partSizes.set(file, target.upload.part_size)
    }
    this.#sizes.set(target.fileId, file.size)
    const id = this.uppy.addFile({
      name: file.name,
      type: file.type || 'application/octet-stream',
      data: file,
      source: 'Local',
      meta: { inletFileId: target.fileId },
    })
    this.#targets.set(id, target)
    if (resume && target.upload.method === 'multipart') {
      this.uppy.setFileState(id, {
        s3Multipart: { uploadId: target.upload.upload_id, key: target.key },
      } as Partial<InletUppyFile>)
    }
    return id
  }

  target(uppyFileId: string): Target | undefined {
    return this.#targets.get(uppyFileId)
  }

  upload() {
    return this.uppy.upload()
  }

  /** Retry failed files; multipart ones continue from the parts the bucket holds. */
  retry() {
    for (const file of this.uppy.getFiles()) {
      const target = this.#targets.get(file.id)
      if (file.error && target?.upload.method === 'multipart') {
        this.uppy.setFileState(file.id, {
          s3Multipart: { uploadId: target.upload.upload_id, key: target.key },
        } as Partial<InletUppyFile>)
      }
    }
    return this.uppy.retryAll()
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
        { batchSize: this.#options.signBatch ?? 10 },
      )
      this.#signers.set(file.id, signer)
    }
    return signer
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
    return withRetry(fn, {
      delays: this.#delays,
      signal,
      wait: this.#options.wait,
      shouldRetry: (error) => error instanceof ApiError && error.transient,
    })
  }

  async #listParts(file: { id: string }, signal?: AbortSignal): Promise<AwsS3Part[]> {
    const { runId, fileId, upload } = this.#target(file)
    let parts: StoredPart[]
    try {
      parts = await this.#retryApi(() => this.#api.listParts(runId, fileId, signal), signal)
    } catch (error) {
      if (!alreadyCompleted(error) || upload.method !== 'multipart') throw error
      // Completed before the page was reloaded: every part is in, nothing left to send.
      this.#completed.add(fileId)
      parts = planParts(this.#sizes.get(fileId) ?? 0, upload.part_size).map((p) => ({
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
    await this.#retryApi(async () => {
      try {
        await this.#api.completeUpload(runId, fileId, body, signal)
      } catch (error) {
        // A retry after a lost answer: the first attempt did complete it.
        if (!alreadyCompleted(error)) throw error
      }
    }, signal)
    this.#completed.add(fileId)
    return { location: key }
  }
}
