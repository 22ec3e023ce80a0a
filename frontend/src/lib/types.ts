// The HTTP contract as TypeScript types: aliases of the types generated from the OpenAPI
// document (docs/openapi.json, explained in docs/contract.md) into api-schema.ts. Nothing here is
// written by hand but the names: change the server's models, then `npm run api:types`.
import type { components } from './api-schema'

type Schemas = components['schemas']

export type RunOut = Schemas['RunOut']
export type RunDetail = Schemas['RunDetail']
export type RunPage = Schemas['RunPage']
export type FileOut = Schemas['FileOut']
export type Incident = Schemas['Incident']
export type ErrorInfo = Schemas['ErrorInfo']
export type CreateUploadRequest = Schemas['CreateUploadRequest']
export type CreateUploadResponse = Schemas['CreateUploadResponse']
export type FileSpec = Schemas['FileSpec']
export type UploadFileOut = Schemas['UploadFileOut']
export type SingleUpload = Schemas['SingleUpload']
export type MultipartUpload = Schemas['MultipartUpload']
export type Upload = UploadFileOut['upload']
export type SignPartsRequest = Schemas['SignPartsRequest']
export type SignPartsResponse = Schemas['SignPartsResponse']
export type SignedPart = Schemas['SignedPart']
export type ListPartsResponse = Schemas['ListPartsResponse']
export type StoredPart = Schemas['StoredPart']
export type CompleteRequest = Schemas['CompleteRequest']
export type CompletedPart = Schemas['CompletedPart']
export type ErrorResponse = Schemas['ErrorResponse']
export type ErrorBody = Schemas['ErrorBody']
export type ErrorDetail = Schemas['ErrorDetail']
export type Limits = Schemas['Limits']
export type LimitUse = Schemas['LimitUse']
export type UploadRules = Schemas['UploadRules']
export type Health = Schemas['Health']
export type Download = Schemas['Download']
export type Manifest = Schemas['Manifest']
export type ManifestEntry = Schemas['ManifestEntry']

export type RunStatus = RunOut['status']
export type FileStatus = FileOut['status']
export type IncidentKind = Incident['kind']
export type ManifestStatus = Manifest['status']
/** What went wrong, for the page to branch on (never the message text). */
export type ErrorCode = ErrorBody['code']

// Every run status, in the order the runs filter offers them; the Record makes the compiler
// insist on each status of the contract, and on no other.
const RUN_STATUS_ORDER: Record<RunStatus, number> = { pending: 0, stored: 1, failed: 2, cancelled: 3, expired: 4 }
export const RUN_STATUSES = (Object.keys(RUN_STATUS_ORDER) as RunStatus[]).sort(
  (a, b) => RUN_STATUS_ORDER[a] - RUN_STATUS_ORDER[b],
)
