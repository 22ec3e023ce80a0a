// The one place that speaks HTTP to the Inlet API (docs/openapi.json). Every failure becomes an
// ApiError: its `code` is the contract's `error.code`, for the page to branch on; its message is
// fit to show a person (the API's own message when it sent one) and is never branched on.
import type {
  CompletedPart,
  CreateUploadRequest,
  CreateUploadResponse,
  Download,
  ErrorCode,
  ErrorDetail,
  ErrorResponse,
  FileOut,
  Health,
  Limits,
  ListPartsResponse,
  Manifest,
  RunDetail,
  RunOut,
  RunPage,
  RunStatus,
  SignedPart,
  SignPartsResponse,
  StoredPart,
} from './types'
import type { Network } from './network'

/**
 * The contract's codes, and two of the page's own: `network_error` (no answer at all, status 0)
 * and `http_error` (an answer that is not the contract's error body, e.g. from a proxy).
 */
export type ApiErrorCode = ErrorCode | 'network_error' | 'http_error'

export class ApiError extends Error {
  readonly status: number
  readonly code: ApiErrorCode
  readonly details: ErrorDetail[]
  /**
   * Seconds the answer's `Retry-After` asked to wait (a 429 `quota_exceeded`), or null when it
   * sent none or the browser hid it (a cross-origin API must expose the header).
   */
  readonly retryAfter: number | null

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    details: ErrorDetail[] = [],
    retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter
  }
}

/** Seconds a `Retry-After` header asks to wait: delta-seconds or an HTTP date; null if unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  const text = value?.trim() ?? ''
  if (/^\d+$/.test(text)) return Number(text)
  const when = text ? Date.parse(text) : Number.NaN
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - now) / 1000))
}

/** The API answered with one of these codes. */
export function hasCode(error: unknown, ...codes: ApiErrorCode[]): error is ApiError {
  return error instanceof ApiError && codes.includes(error.code)
}

export interface ManifestQuery {
  /** Entries per page: 1 to 1,000 (the API's default is 200). */
  limit?: number
  cursor?: string | null
}

export interface RunQuery {
  status?: RunStatus | ''
  type?: string
  limit?: number
  cursor?: string | null
  /** Runs whose label contains this text (3 to 200 characters). */
  q?: string
}

type Fetch = typeof fetch

export class ApiClient {
  readonly baseUrl: string
  readonly #fetch: Fetch
  readonly #token: () => string | null
  readonly #network: Network | null

  /** `token` is asked before every request, so a token saved later is used at once. `network`
   *  hears whether each request got an answer (the page's offline and unreachable banners). */
  constructor(
    baseUrl: string,
    fetchImpl: Fetch = (...args) => fetch(...args),
    token: () => string | null = () => null,
    network: Network | null = null,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#fetch = fetchImpl
    this.#token = token
    this.#network = network
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' }
    const token = this.#token()
    if (token) headers.Authorization = `Bearer ${token}`
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      })
    } catch (err) {
      if (signal?.aborted) throw err
      this.#network?.apiFailed()
      throw new ApiError(
        0,
        'network_error',
        `Cannot reach the Inlet API at ${this.baseUrl}. Check your connection and try again.`,
      )
    }
    this.#network?.apiAnswered()
    const text = await response.text()
    let data: unknown = undefined
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = undefined
      }
    }
    if (!response.ok) {
      const error = (data as Partial<ErrorResponse> | undefined)?.error
      const retryAfter = parseRetryAfter(response.headers.get('Retry-After'))
      if (error && typeof error.code === 'string' && typeof error.message === 'string') {
        throw new ApiError(response.status, error.code, error.message, error.details ?? [], retryAfter)
      }
      throw new ApiError(
        response.status,
        'http_error',
        `The API answered ${response.status} ${response.statusText}`.trim(),
        [],
        retryAfter,
      )
    }
    return data as T
  }

  createUpload(request: CreateUploadRequest, signal?: AbortSignal): Promise<CreateUploadResponse> {
    return this.request('POST', '/v1/uploads', request, signal)
  }

  async signParts(runId: string, fileId: string, partNumbers: number[], signal?: AbortSignal): Promise<SignedPart[]> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/parts`
    const result = await this.request<SignPartsResponse>('POST', path, { part_numbers: partNumbers }, signal)
    return result.parts
  }

  async listParts(runId: string, fileId: string, signal?: AbortSignal): Promise<StoredPart[]> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/parts`
    const result = await this.request<ListPartsResponse>('GET', path, undefined, signal)
    return result.parts
  }

  /** `sha256`: the file's, when it was not declared at creation (the same one again is accepted). */
  completeUpload(
    runId: string,
    fileId: string,
    parts: CompletedPart[],
    sha256?: string,
    signal?: AbortSignal,
  ): Promise<FileOut> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/complete`
    return this.request('POST', path, sha256 ? { parts, sha256 } : { parts }, signal)
  }

  cancelRun(runId: string, signal?: AbortSignal): Promise<RunOut> {
    return this.request('DELETE', `/v1/uploads/${enc(runId)}`, undefined, signal)
  }

  listRuns(query: RunQuery = {}, signal?: AbortSignal): Promise<RunPage> {
    const params = new URLSearchParams()
    if (query.status) params.set('status', query.status)
    if (query.type) params.set('type', query.type)
    if (query.limit) params.set('limit', String(query.limit))
    if (query.cursor) params.set('cursor', query.cursor)
    if (query.q) params.set('q', query.q)
    const qs = params.toString()
    return this.request('GET', `/v1/runs${qs ? `?${qs}` : ''}`, undefined, signal)
  }

  getRun(runId: string, signal?: AbortSignal): Promise<RunDetail> {
    return this.request('GET', `/v1/runs/${enc(runId)}`, undefined, signal)
  }

  /**
   * A short-lived presigned GET of a stored file's recorded version; the bucket answers it as an
   * attachment under the file's name. 409 `file_pending`, `file_failed`, `file_lost` otherwise.
   */
  downloadLink(runId: string, fileId: string, signal?: AbortSignal): Promise<Download> {
    return this.request('GET', `/v1/runs/${enc(runId)}/files/${enc(fileId)}/download`, undefined, signal)
  }

  /** One page of an archive's manifest (404 `no_manifest` for a file that is not an archive). */
  getManifest(runId: string, fileId: string, query: ManifestQuery = {}, signal?: AbortSignal): Promise<Manifest> {
    const params = new URLSearchParams()
    if (query.limit) params.set('limit', String(query.limit))
    if (query.cursor) params.set('cursor', query.cursor)
    const qs = params.toString()
    const path = `/v1/runs/${enc(runId)}/files/${enc(fileId)}/manifest${qs ? `?${qs}` : ''}`
    return this.request('GET', path, undefined, signal)
  }

  /** The API's own checks (database, bucket); 503 when one fails. Asked while the API seems
   *  unreachable: any answer means it is reachable again. */
  health(signal?: AbortSignal): Promise<Health> {
    return this.request('GET', '/health', undefined, signal)
  }

  /** The caller's quotas and rate limits, and how much of each is in use. */
  limits(signal?: AbortSignal): Promise<Limits> {
    return this.request('GET', '/v1/limits', undefined, signal)
  }
}

function enc(value: string): string {
  return encodeURIComponent(value)
}

/** A message for any error, API or not. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message
  if (err instanceof Error && err.message) return err.message
  return 'Something went wrong.'
}
