// The HTTP contract (shared/api-contract.md, GET /v1/openapi.json) as TypeScript types.

export const RUN_STATUSES = ['pending', 'stored', 'failed', 'cancelled', 'expired'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export type FileStatus = 'pending' | 'stored' | 'failed'

export interface ErrorInfo {
  code: string
  message: string
}

export interface Run {
  id: string
  type: string
  label: string | null
  notes: string | null
  status: RunStatus
  source: 'api' | 'bucket'
  created_at: string
  updated_at: string
  stored_at: string | null
  file_count: number
  total_bytes: number
  error: ErrorInfo | null
}

export interface FileRecord {
  id: string
  run_id: string
  name: string
  key: string
  size_bytes: number
  content_type: string
  status: FileStatus
  sha256: string | null
  declared_sha256: string | null
  etag: string | null
  stored_at: string | null
  error: ErrorInfo | null
}

export interface RunDetail extends Run {
  files: FileRecord[]
}

export interface SignedPart {
  part_number: number
  url: string
  expires_at: string
}

export interface SingleUpload {
  method: 'PUT'
  url: string
  headers: Record<string, string>
  expires_at: string
}

export interface MultipartUpload {
  method: 'multipart'
  upload_id: string
  part_size: number
  part_count: number
  parts: SignedPart[]
}

export type Upload = SingleUpload | MultipartUpload

export interface UploadFile extends FileRecord {
  upload: Upload
}

export interface FileSpec {
  name: string
  size: number
  content_type: string
  sha256?: string
}

export interface CreateUploadRequest {
  type: string
  label: string | null
  notes: string | null
  files: FileSpec[]
}

export interface CreateUploadResponse {
  run: Run
  files: UploadFile[]
}

export interface StoredPart {
  part_number: number
  etag: string
  size: number
}

export interface CompletedPart {
  part_number: number
  etag: string
}

export interface RunPage {
  items: Run[]
  next_cursor: string | null
}

export interface ErrorDetail {
  field?: string | null
  message: string
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] }
}
