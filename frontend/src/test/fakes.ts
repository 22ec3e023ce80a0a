// Test doubles: an HTTP API behind a fake fetch, a fake S3 byte sender, a fake hasher.
import { createHash } from 'node:crypto'
import { ApiClient } from '../lib/api'
import type { FileOut, LimitUse, Limits, Manifest, RunDetail, RunOut, UploadRules } from '../lib/types'
import type { Hasher } from '../upload/hasher'
import type { UploadPartBytes } from '../upload/uppy'

export const API = 'http://api.test'

export interface Call {
  method: string
  path: string
  body: unknown
}

type Handler = (call: Call & { query: URLSearchParams }) => { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>

/** An ApiClient whose fetch goes to `handlers`, keyed "METHOD /path/with/:params". */
export function fakeApi(handlers: Record<string, Handler>): { api: ApiClient; calls: Call[] } {
  const calls: Call[] = []
  const routes = Object.entries(handlers).map(([key, handler]) => {
    const [method, pattern] = key.split(' ')
    const regex = new RegExp(`^${pattern.replace(/:[a-z_]+/g, '[^/]+')}$`)
    return { method, regex, handler }
  })
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input))
    const method = init?.method ?? 'GET'
    const body = init?.body ? JSON.parse(String(init.body)) : undefined
    const call = { method, path: url.pathname, body }
    calls.push(call)
    const route = routes.find((r) => r.method === method && r.regex.test(url.pathname))
    if (!route) {
      return new Response(JSON.stringify({ error: { code: 'not_found', message: `no route ${method} ${url.pathname}` } }), {
        status: 404,
        headers: { 'Content-Type': 'application/json' },
      })
    }
    const result = await route.handler({ ...call, query: url.searchParams })
    return new Response(result.body === undefined ? null : JSON.stringify(result.body), {
      status: result.status ?? 200,
      headers: { 'Content-Type': 'application/json' },
    })
  }) as typeof fetch
  return { api: new ApiClient(API, fetchImpl), calls }
}

export function makeRun(overrides: Partial<RunOut> = {}): RunOut {
  return {
    id: '11111111-2222-3333-4444-555555555555',
    type: 'app_bundle',
    label: 'prod SH',
    notes: null,
    status: 'pending',
    source: 'api',
    created_at: '2026-11-27T10:00:00Z',
    updated_at: '2026-11-27T10:00:00Z',
    stored_at: null,
    file_count: 1,
    total_bytes: 1024,
    error: null,
    ...overrides,
  }
}

export function makeRunDetail(overrides: Partial<RunDetail> = {}): RunDetail {
  const run = makeRun(overrides)
  return {
    ...run,
    files: overrides.files ?? [
      {
        id: 'f0000000-0000-0000-0000-000000000001',
        run_id: run.id,
        name: 'etc.tgz',
        key: `runs/${run.id}/f0000000-0000-0000-0000-000000000001/etc.tgz`,
        size_bytes: 1024,
        content_type: 'application/gzip',
        status: 'pending',
        sha256: null,
        declared_sha256: null,
        etag: null,
        stored_at: null,
        error: null,
      },
    ],
  }
}

/** The server's upload rules, as GET /v1/limits answers them (the server's defaults unless told otherwise). */
export function makeRules(overrides: Partial<UploadRules> = {}): UploadRules {
  return { max_file_size: 5 * 1024 ** 4, max_files_per_run: 100, multipart_threshold: 16 * MiB, ...overrides }
}

/** A GET /v1/limits answer with these upload rules and nothing in use. */
export function makeLimits(uploads: UploadRules = makeRules()): Limits {
  const unused = (setting: string, limit: number | null, window: number | null = null): LimitUse => ({
    limit,
    used: 0,
    remaining: limit,
    window_seconds: window,
    retry_after: null,
    setting,
  })
  return {
    owner: null,
    uploads,
    pending_runs: unused('INLET_QUOTA_PENDING_RUNS', 20),
    pending_bytes: unused('INLET_QUOTA_PENDING_BYTES', null),
    runs_per_minute: unused('INLET_QUOTA_RUNS_PER_MINUTE', 60, 60),
    inbox_per_minute: null,
  }
}

/** A stored file of `run` (an archive by default). */
export function makeStoredFile(run: Pick<RunOut, 'id'>, overrides: Partial<FileOut> = {}): FileOut {
  const id = overrides.id ?? 'f0000000-0000-0000-0000-00000000000a'
  const name = overrides.name ?? 'etc.tgz'
  return {
    id,
    run_id: run.id,
    name,
    key: `runs/${run.id}/${id}/${name}`,
    size_bytes: 2048,
    content_type: 'application/gzip',
    status: 'stored',
    sha256: 'cd'.repeat(32),
    declared_sha256: null,
    etag: '"e"',
    version_id: 'v1',
    stored_at: '2026-11-27T10:00:04Z',
    error: null,
    ...overrides,
  }
}

/** A manifest page: `done` with `entries` unless told otherwise; counts from the entries. */
export function makeManifest(overrides: Partial<Manifest> = {}): Manifest {
  const entries = overrides.entries ?? []
  const status = overrides.status ?? 'done'
  const done = status === 'done'
  const files = entries.filter((e) => e.kind === 'file')
  return {
    file_id: 'f0000000-0000-0000-0000-00000000000a',
    status,
    format: 'tar.gz',
    entry_count: done ? entries.length : null,
    file_count: done ? files.length : null,
    dir_count: done ? entries.length - files.length : null,
    total_bytes: done ? files.reduce((sum, e) => sum + e.size_bytes, 0) : null,
    processed_at: status === 'pending' ? null : '2026-11-27T10:00:09Z',
    error: null,
    next_cursor: null,
    ...overrides,
    entries,
  }
}

export interface SentPart {
  url: string
  size: number
  headers?: Record<string, string>
}

/**
 * A fake S3: records each PUT and answers with an ETag. `fail(url, attempt)` may return an
 * HTTP status (0 = network error) to fail that attempt.
 */
export function fakeS3(fail?: (url: string, attempt: number) => number | null): { send: UploadPartBytes; sent: SentPart[] } {
  const sent: SentPart[] = []
  const attempts = new Map<string, number>()
  const send: UploadPartBytes = async ({ signature, body, onProgress, onComplete, signal }) => {
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError')
    const key = signature.url.replace(/[?&](sig|v)=[^&]*/g, '')
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    const status = fail?.(signature.url, attempt) ?? null
    if (status !== null) {
      const error = new Error(status === 0 ? 'Unknown error' : 'Non 2xx') as Error & { source: { status: number } }
      error.source = { status }
      throw error
    }
    const size = (body as Blob).size
    sent.push({ url: signature.url, size, headers: signature.headers })
    onProgress?.({ loaded: size, lengthComputable: true })
    const etag = `"etag-${new URL(signature.url).searchParams.get('partNumber') ?? 'single'}"`
    onComplete?.(etag)
    return { ETag: etag }
  }
  return { send, sent }
}

/** Hashes with node's crypto, instantly (or never, with `hold`). */
export function fakeHasher(): Hasher & { hashed: string[] } {
  const hashed: string[] = []
  return {
    hashed,
    async hash(file: Blob, onProgress: (bytes: number) => void) {
      const data = new Uint8Array(await file.arrayBuffer())
      onProgress(file.size)
      hashed.push((file as File).name)
      return createHash('sha256').update(data).digest('hex')
    },
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

/** A File of `size` bytes with a repeating pattern (cheap to build, not all zeros). */
export function makeFile(name: string, size: number, lastModified = 1_700_000_000_000, type = 'application/octet-stream'): File {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i += 4096) data[i] = (i / 4096) % 251
  return new File([data], name, { type, lastModified })
}

/** A File that says it holds `size` bytes without holding them (a 51 GiB file, for the checks). */
export function sizedFile(name: string, size: number): File {
  const file = new File(['x'], name, { lastModified: 1_700_000_000_000 })
  Object.defineProperty(file, 'size', { value: size })
  return file
}

/** `blob`, changed on disk after it was chosen: reading it, or any slice of it, fails as in
 *  Chrome (NotReadableError). */
export function changeOnDisk<T extends Blob>(blob: T): T {
  const fail = () => Promise.reject(new DOMException('The requested file could not be read.', 'NotReadableError'))
  const slice = (start = 0, end = blob.size) => changeOnDisk(new Blob([new Uint8Array(Math.max(0, Math.min(end, blob.size) - start))]))
  return Object.defineProperties(blob, { arrayBuffer: { value: fail }, slice: { value: slice } })
}

export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0))
}

export const quietLogger = { debug: () => undefined, warn: () => undefined, error: () => undefined }
