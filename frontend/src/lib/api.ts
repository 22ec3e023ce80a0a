// The one place that speaks HTTP to the Inlet API (docs/openapi.json). Every failure becomes an
// ApiError: its `code` is the contract's `error.code`, for the page to branch on; its message is
// fit to show a person (the API's own message when it sent one) and is never branched on.
import type {
  CompletedPart,
  CreateUploadRequest,
  CreateUploadResponse,
  ErrorCode,
  ErrorDetail,
  ErrorResponse,
  FileOut,
  ListPartsResponse,
  RunDetail,
  RunOut,
  RunPage,
  RunStatus,
  SignedPart,
  SignPartsResponse,
  StoredPart,
} from './types'

/**
 * The contract's codes, and two of the page's own: `network_error` (no answer at all, status 0)
 * and `http_error` (an answer that is not the contract's error body, e.g. from a proxy).
 */
export type ApiErrorCode = ErrorCode | 'network_error' | 'http_error'

export class ApiError extends Error {
  readonly status: number
  readonly code: ApiErrorCode
  readonly details: ErrorDetail[]

  constructor(status: number, code: ApiErrorCode, message: string, details: ErrorDetail[] = []) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

/** The API answered with one of these codes. */
export function hasCode(error: unknown, ...codes: ApiErrorCode[]): error is ApiError {
  return error instanceof ApiError && codes.includes(error.code)
}

export interface RunQuery {
  status?: RunStatus | ''
  type?: string
  limit?: number
  cursor?: string | null
}

type Fetch = typeof fetch

export class ApiClient {
  readonly baseUrl: string
  readonly #fetch: Fetch
  readonly #token: () => string | null

  /** `token` is asked before every request, so a token saved later is used at once. */
  constructor(baseUrl: string, fetchImpl: Fetch = (...args) => fetch(...args), token: () => string | null = () => null) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#fetch = fetchImpl
    this.#token = token
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
      throw new ApiError(
        0,
        'network_error',
        `Cannot reach the Inlet API at ${this.baseUrl}. Check your connection and try again.`,
      )
    }
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
      if (error && typeof error.code === 'string' && typeof error.message === 'string') {
        throw new ApiError(response.status, error.code, error.message, error.details ?? [])
      }
      throw new ApiError(
        response.status,
        'http_error',
        `The API answered ${response.status} ${response.statusText}`.trim(),
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

  completeUpload(runId: string, fileId: string, parts: CompletedPart[], signal?: AbortSignal): Promise<FileOut> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/complete`
    return this.request('POST', path, { parts }, signal)
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
    const qs = params.toString()
    return this.request('GET', `/v1/runs${qs ? `?${qs}` : ''}`, undefined, signal)
  }

  getRun(runId: string, signal?: AbortSignal): Promise<RunDetail> {
    return this.request('GET', `/v1/runs/${enc(runId)}`, undefined, signal)
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
