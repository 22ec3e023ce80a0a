// What the upload page says when something fails: messages fit for a person. Nothing here decides
// what to do about an error: that is the error's code (lib/api.ts) and the retry rule (lib/retry.ts).

import { ApiError, errorMessage } from '../lib/api'
import { statusOf } from '../lib/retry'

export interface ErrorView {
  title: string
  message: string
  details: string[]
}

export const DEFAULT_TITLE = 'The upload could not go on'

/** The banner for an error that stopped the upload as a whole. */
export function toErrorView(error: unknown): ErrorView {
  if (error instanceof ApiError) {
    const title =
      error.code === 'network_error'
        ? 'Cannot reach the API'
        : error.status >= 400 && error.status < 500
          ? 'The API refused this upload'
          : 'The API could not take the upload'
    return {
      title,
      message: error.message,
      details: error.details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)),
    }
  }
  return { title: DEFAULT_TITLE, message: errorMessage(error), details: [] }
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
