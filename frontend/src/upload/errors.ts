// What the upload page says when something fails: messages fit for a person. Nothing here decides
// what to do about an error: that is the error's code (lib/api.ts) and the retry rule (lib/retry.ts).

import { ApiError, errorMessage } from '../lib/api'
import { formatDuration } from '../lib/format'
import { statusOf } from '../lib/retry'
import type { ErrorDetail } from '../lib/types'
import type { ErrorView } from './snapshot'

export const DEFAULT_TITLE = 'The upload could not go on'

/**
 * When to try again after a 429, in words: "Try again at 14:32:05 (in 42 s)." from the answer's
 * Retry-After, or a general line when the browser could not read it (the API's message says).
 */
export function retryText(retryAfter: number | null, now: Date = new Date()): string {
  if (retryAfter === null) return 'Try again later: limits free up as uploads finish and each minute passes.'
  const at = new Date(now.getTime() + retryAfter * 1000)
  const clock = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  return `Try again at ${clock} (in ${formatDuration(retryAfter)}).`
}

/** The banner for an error that stopped the upload as a whole. */
export function toErrorView(error: unknown, now: Date = new Date()): ErrorView {
  if (error instanceof ApiError && (error.code === 'quota_exceeded' || error.status === 429)) {
    // Nothing was created: the same upload can simply be started again later. The message names
    // the first limit it is over; the details name each, when there are several.
    const limits = error.details.length > 1 ? error.details.map((d) => d.message) : []
    return {
      title: 'Too many uploads for now',
      message: error.message,
      details: [...limits, retryText(error.retryAfter, now)],
    }
  }
  if (error instanceof ApiError) {
    const title =
      error.code === 'network_error'
        ? 'Cannot reach the API'
        : error.status >= 400 && error.status < 500
          ? REFUSED_TITLE
          : 'The API could not take the upload'
    const worded = error.details.map((d) => inWords(d.field, d.message))
    // A validation error's message only lists its details, in the validator's words: say them
    // once, in ours. Any other message is written for people, and a lone detail repeats it.
    if (error.code === 'validation_error' && worded.length) return { title, message: worded[0], details: worded.slice(1) }
    return { title, message: error.message, details: worded.length > 1 ? worded : [] }
  }
  return { title: DEFAULT_TITLE, message: errorMessage(error), details: [] }
}

const REFUSED_TITLE = 'The API refused this upload'

// The request fields a person knows by another name.
const FIELD_WORDS: Record<string, string> = { sha256: 'checksum', content_type: 'content type' }

/**
 * One detail of the API's refusal as a sentence that names no field path:
 * (`files[3].name`, `Value error, name contains U+202E RIGHT-TO-LEFT OVERRIDE`) →
 * "The name contains U+202E RIGHT-TO-LEFT OVERRIDE."
 */
export function inWords(field: string | null | undefined, message: string): string {
  const text = message.replace(/^Value error, /, '').replace(/\.$/, '')
  const name = (field ?? '').split('.').pop()!.replace(/\[\d+\]$/, '')
  if (!name || name === 'body') return sentence(text)
  const rest = text.startsWith(`${name} `) ? text.slice(name.length + 1) : text.replace(/^(String|Input|Value|Field) /, '')
  const verb = /^(is|are|contains|must|should|has|have|differs|cannot|may|was) /.test(rest) ? '' : 'is '
  return sentence(`the ${FIELD_WORDS[name] ?? name.replace(/_/g, ' ')} ${verb}${rest}`)
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}

const FILE_FIELD = /^(?:body\.)?files\[(\d+)\](?:\.|$)/

export interface FileRefusals {
  /** Why the API refused each file, by its place in the request, in words. */
  files: Map<number, string>
  /** The details that concern no single file. */
  other: ErrorDetail[]
}

/** The API's refusals of single files (`details[].field` such as `files[3].name`), or null when it named none. */
export function fileRefusals(error: unknown): FileRefusals | null {
  if (!(error instanceof ApiError)) return null
  const files = new Map<number, string>()
  const other: ErrorDetail[] = []
  for (const detail of error.details) {
    const index = FILE_FIELD.exec(detail.field ?? '')?.[1]
    if (index === undefined) {
      other.push(detail)
      continue
    }
    const words = `The API refused this file: ${lowerFirst(inWords(detail.field, detail.message))}`
    const at = Number(index)
    files.set(at, files.has(at) ? `${files.get(at)} ${inWords(detail.field, detail.message)}` : words)
  }
  return files.size ? { files, other } : null
}

function lowerFirst(text: string): string {
  return `${text.charAt(0).toLowerCase()}${text.slice(1)}`
}

/** The banner for a refusal whose reasons are shown next to the files. */
export function refusedView(refusals: FileRefusals): ErrorView {
  const n = refusals.files.size
  return {
    title: REFUSED_TITLE,
    message: `${n === 1 ? '1 file was' : `${n} files were`} refused: see the list.`,
    details: refusals.other.map((d) => inWords(d.field, d.message)),
  }
}

/** A file's bytes can no longer be read as they were chosen: it changed on disk (or was moved). */
export class FileChanged extends Error {
  constructor() {
    super('The file changed after it was chosen.')
    this.name = 'FileChanged'
  }
}

/** The error says the file can no longer be read: Chrome's NotReadableError, or FileChanged. */
export function isFileChanged(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'NotReadableError' || name === 'NotFoundError' || error instanceof FileChanged
}

/**
 * Whether `blob` can no longer be read. A changed file's upload fails like a lost connection
 * (status 0); reading a byte of it tells the two apart.
 */
export async function unreadable(blob: Blob): Promise<boolean> {
  try {
    await blob.slice(0, 1).arrayBuffer()
    return false
  } catch {
    return true
  }
}

/** The line under a file that changed after it was chosen. */
export function changedText(name: string): string {
  return `«${name}» changed after it was chosen (it was modified or moved); choose it again to upload the new version.`
}

/** The line under one file, for anything its upload can throw. */
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
