// The tab title: the upload's progress while there is one to tell (a tab in the background still
// shows it), else the page's name.
import type { Route } from './lib/router'
import type { Snapshot } from './upload/snapshot'

/** Whole percents only: 99% until it is all in, and fewer title changes. */
function wholePercent(fraction: number): string {
  return `${Number.isFinite(fraction) ? Math.floor(fraction * 100) : 0}%`
}

/** The upload's state in a few words ("42% uploading"), or null when there is none to tell. */
export function uploadStatus(snap: Snapshot): string | null {
  switch (snap.phase) {
    case 'hashing':
      return `Checksums ${wholePercent(snap.hashing.fraction)}`
    case 'creating':
      return 'Starting upload'
    case 'uploading': {
      const done = wholePercent(snap.overall.fraction)
      if (snap.paused) return `Paused at ${done}`
      if (!snap.online) return `Offline at ${done}`
      if (snap.overall.stalled) return `${done} waiting for network`
      return `${done} uploading`
    }
    case 'done':
      return '✓ Uploaded'
    case 'failed':
      return 'Upload failed'
    default:
      return null
  }
}

export function pageName(route: Route): string {
  switch (route.name) {
    case 'upload':
      return 'Upload'
    case 'runs':
      return 'Runs'
    case 'run':
      return `Run ${route.id.slice(0, 8)}`
    case 'missing':
      return 'Page not found'
  }
}

export function documentTitle(route: Route, snap: Snapshot): string {
  return `${uploadStatus(snap) ?? pageName(route)} · Inlet`
}
