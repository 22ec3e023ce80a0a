// What the upload page says when something fails: messages fit for a person. Nothing here decides
// what to do about an error: that is the error's code (lib/api.ts) and the retry rule (lib/retry.ts).

import { ApiError, errorMessage } from '../lib/api'
import { formatDuration } from '../lib/format'
import { statusOf } from '../lib/retry'

export interface ErrorView {
  title: string
  message: string
  details: string[]
}

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
