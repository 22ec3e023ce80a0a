// Human-readable sizes, durations, speeds and dates.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

/** Decimal units (1 MB = 1,000,000 bytes), as file managers and S3 consoles show sizes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  if (bytes < 1000) return `${bytes} B`
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit += 1
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
  return `${value.toFixed(digits)} ${UNITS[unit]}`
}

export function formatSpeed(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null || !Number.isFinite(bytesPerSecond)) return '–'
  return `${formatBytes(Math.round(bytesPerSecond))}/s`
}

/** 0 s, 42 s, 3 min 5 s, 2 h 4 min. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–'
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s`
  const minutes = Math.floor(s / 60)
  if (minutes < 60) return `${minutes} min ${s % 60} s`
  const hours = Math.floor(minutes / 60)
  return `${hours} h ${minutes % 60} min`
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '–'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

/** "1 file", "3 files". */
export function fileCount(n: number): string {
  return n === 1 ? '1 file' : `${n} files`
}

export function shortId(id: string): string {
  return id.slice(0, 8)
}

/** "8.1 MB/s · 2 s left", or what is known so far. */
export function rateText(speed: number | null, eta: number | null): string {
  if (speed === null) return 'measuring speed…'
  if (speed === 0) return 'stalled: waiting for the network…'
  return `${formatSpeed(speed)} · ${eta === null ? 'estimating time left…' : `${formatDuration(eta)} left`}`
}

// Characters a name, label, key or message never shows raw, whoever wrote it (the API refuses
// them in new names, but old rows and keys dropped into the bucket may hold them;
// docs/security.md, "Names"): C0 and C1 controls and DEL, bidirectional embeddings, overrides
// and isolates (they reorder the text after them), line and paragraph separators. The
// bidirectional marks (U+200E, U+200F, U+061C) stay: right-to-left names need them, and every
// name is shown inside <bdi>, so they cannot reach past it.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** `text` as the page shows it: each unsafe character replaced by U+FFFD (�). Wrap the result
 *  in <bdi> where it sits next to other text, so it cannot reorder what is around it. With
 *  `multiline`, tabs and line breaks stay (notes). */
export function displayText(text: string, { multiline = false }: { multiline?: boolean } = {}): string {
  return text.replace(multiline ? UNSAFE_BUT_LINES : UNSAFE, '\uFFFD')
}
