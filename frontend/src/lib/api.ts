// The one place that speaks HTTP to the Inlet API. Every failure becomes an ApiError whose
// message is fit to show a person: the API's own message when it sent one.
import type {
  CompletedPart,
  CreateUploadRequest,
  CreateUploadResponse,
  ErrorBody,
  ErrorDetail,
  FileRecord,
  Run,
  RunDetail,
  RunPage,
  RunStatus,
  SignedPart,
  StoredPart,
} from './types'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: ErrorDetail[]

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }

  /** Worth trying again: the network, the API being unavailable, or a rate limit. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
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
      const error = (data as ErrorBody | undefined)?.error
      if (error && typeof error.message === 'string') {
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

  async signParts(
    runId: string,
    fileId: string,
    partNumbers: number[],
    signal?: AbortSignal,
  ): Promise<SignedPart[]> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/parts`
    const result = await this.request<{ parts: SignedPart[] }>(
      'POST',
      path,
      { part_numbers: partNumbers },
      signal,
    )
    return result.parts
  }

  async listParts(runId: string, fileId: string, signal?: AbortSignal): Promise<StoredPart[]> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/parts`
    const result = await this.request<{ parts: StoredPart[] }>('GET', path, undefined, signal)
    return result.parts
  }

  completeUpload(
    runId: string,
    fileId: string,
    parts: CompletedPart[],
    signal?: AbortSignal,
  ): Promise<FileRecord> {
    const path = `/v1/uploads/${enc(runId)}/files/${enc(fileId)}/complete`
    return this.request('POST', path, { parts }, signal)
  }

  cancelRun(runId: string, signal?: AbortSignal): Promise<Run> {
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
