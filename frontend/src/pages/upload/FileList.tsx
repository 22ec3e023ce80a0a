import { useVirtualizer } from '@tanstack/react-virtual'
import { memo, useId, useRef } from 'react'
import { ProgressBar } from '../../components/ProgressBar'
import { StatusBadge } from '../../components/StatusBadge'
import { displayText, fileCount, formatBytes } from '../../lib/format'
import { percent } from '../../upload/progress'
import type { EntryView, SessionView } from '../../upload/snapshot'

/** One line of a row without a message under it, in px (the virtualizer measures the others). */
const ROW_HEIGHT = 41
/** Up to this many files every row is in the page (Tab reaches each one, the browser's find
 *  finds it); beyond, only the rows in and near the list's view are, so 1,000 files stay quick. */
const ALL_ROWS_UP_TO = 100

/** The chosen files, one line each, in a box of its own that scrolls when they are many. */
export function FileList({
  entries,
  session,
  locked,
  hashedWhileUploadingAbove,
}: {
  entries: EntryView[]
  session: SessionView
  locked: boolean
  /** Files larger than this (the multipart threshold) are hashed while they upload; null while unknown. */
  hashedWhileUploadingAbove: number | null
}) {
  const box = useRef<HTMLDivElement>(null)
  const headingId = useId()
  const windowed = entries.length > ALL_ROWS_UP_TO
  // The page does not use the React Compiler, which is what this rule protects: nothing of the
  // virtualizer is memoized here (rows get plain values and its stable measureElement).
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: windowed ? entries.length : 0,
    getScrollElement: () => box.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => entries[index].id,
    overscan: 12,
  })
  const rows = windowed
    ? virtualizer.getVirtualItems().map((item) => ({ index: item.index, start: item.start }))
    : entries.map((_, index) => ({ index, start: null }))
  const total = entries.reduce((n, e) => n + e.size, 0)
  return (
    <div className="rounded-xl border border-slate-200 bg-white shadow-sm">
      <h2 id={headingId} className="border-b border-slate-200 px-4 py-2 text-sm font-semibold text-slate-800">
        {fileCount(entries.length)} · {formatBytes(total)}
      </h2>
      {/* Focusable so the keyboard can scroll it even when its rows have no button (uploading). */}
      <div ref={box} tabIndex={0} role="region" aria-labelledby={headingId} className="max-h-[min(26rem,50vh)] overflow-y-auto focus-visible:outline-2 focus-visible:outline-teal-600">
        <ul className="relative" style={windowed ? { height: virtualizer.getTotalSize() } : undefined}>
          {rows.map(({ index, start }) => (
            <FileRow
              key={entries[index].id}
              entry={entries[index]}
              index={index}
              count={entries.length}
              start={start}
              measure={virtualizer.measureElement}
              session={session}
              locked={locked}
              hashedWhileUploadingAbove={hashedWhileUploadingAbove}
            />
          ))}
        </ul>
      </div>
    </div>
  )
}

/** One file. Memoized: the session keeps an unchanged file's EntryView the same object, so
 *  progress of one file re-renders only its row. */
const FileRow = memo(function FileRow({
  entry,
  index,
  count,
  start,
  measure,
  session,
  locked,
  hashedWhileUploadingAbove,
}: {
  entry: EntryView
  index: number
  count: number
  /** Where the row sits in a windowed list; null in a plain one. */
  start: number | null
  measure: (row: HTMLLIElement | null) => void
  session: SessionView
  locked: boolean
  hashedWhileUploadingAbove: number | null
}) {
  const message = entry.problem ?? (entry.status === 'failed' || entry.hashState === 'error' ? entry.error : null)
  return (
    <li
      ref={start === null ? undefined : measure}
      data-index={index}
      aria-setsize={count}
      aria-posinset={index + 1}
      aria-label={entry.name}
      data-testid="file-row"
      data-file-id={entry.id}
      className={`border-b border-slate-100 px-4 ${start === null ? '' : 'absolute inset-x-0 top-0'}`}
      style={start === null ? undefined : { transform: `translateY(${start}px)` }}
    >
      <div className="flex h-10 items-center gap-3 text-sm">
        <span className="min-w-0 flex-1 truncate font-medium text-slate-900" title={entry.name}>
          <bdi>{displayText(entry.name)}</bdi>
        </span>
        <Checksum entry={entry} whileUploading={hashedWhileUploadingAbove !== null && entry.size > hashedWhileUploadingAbove} />
        <span className="w-18 shrink-0 text-right text-slate-600 tabular-nums">{formatBytes(entry.size)}</span>
        <FileState entry={entry} />
        <RowActions entry={entry} session={session} locked={locked} />
      </div>
      {message && (
        <p className="-mt-1 flex flex-wrap items-center gap-x-3 gap-y-1 pb-2 text-sm text-red-700" data-testid="file-problem">
          <span>{message}</span>
          {entry.changed && <ChooseAgain entry={entry} session={session} />}
        </p>
      )}
    </li>
  )
})

/** The file's sha256 (shortened to its column; all of it in the tooltip and the text), wide screens only. */
function Checksum({ entry, whileUploading }: { entry: EntryView; whileUploading: boolean }) {
  const text =
    entry.hashState === 'done' && entry.sha256
      ? `sha256 ${entry.sha256}`
      : entry.hashState === 'hashing'
        ? `sha256 ${percent(entry.hashFraction)}%`
        : entry.hashState === 'waiting' && !entry.problem
          ? whileUploading
            ? 'sha256: computed while it uploads'
            : 'sha256: not computed yet'
          : ''
  return (
    <span className="hidden w-56 shrink-0 truncate font-mono text-xs text-slate-500 md:block" title={text || undefined}>
      {text}
    </span>
  )
}

/** Where the file is: its checksum while hashed, then its upload. */
function FileState({ entry }: { entry: EntryView }) {
  const label = `Upload progress of ${entry.name}`
  let state
  if (entry.problem) state = <StatusBadge status="failed" label="refused" />
  else if (entry.status === 'selected')
    state =
      entry.hashState === 'hashing' ? (
        <span className="text-xs text-slate-600">checksum {percent(entry.hashFraction)}%</span>
      ) : entry.hashState === 'error' ? (
        <StatusBadge status="failed" label="unreadable" />
      ) : (
        <StatusBadge status="selected" label="ready" />
      )
  else if (entry.status === 'uploading') state = <StatusBadge status="uploading" label={`${percent(entry.fraction)}%`} />
  else state = <StatusBadge status={entry.status} />
  const showBar = entry.status === 'uploading' || entry.status === 'paused' || entry.status === 'failed'
  return (
    <span className="flex w-24 shrink-0 flex-col items-end gap-1 sm:w-32 sm:flex-row sm:items-center sm:justify-end sm:gap-2">
      {state}
      {showBar && (
        <span className="w-12 sm:w-14">
          <ProgressBar value={entry.fraction} label={label} size="sm" tone={entry.status === 'failed' ? 'red' : entry.status === 'paused' ? 'slate' : 'teal'} />
        </span>
      )}
    </span>
  )
}

const ICON_BUTTON =
  'inline-flex h-7 w-7 items-center justify-center rounded text-slate-500 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-teal-600'

/** What can be done with this one file now: remove it, pause or resume it, retry it. */
function RowActions({ entry, session, locked }: { entry: EntryView; session: SessionView; locked: boolean }) {
  let action: { text: string; icon: string; run: () => void } | null = null
  if (!locked) action = { text: 'Remove', icon: '✕', run: () => session.removeFile(entry.id) }
  else if (entry.status === 'uploading' && entry.method === 'multipart')
    action = { text: 'Pause', icon: '⏸', run: () => session.pauseFile(entry.id) }
  else if (entry.status === 'paused') action = { text: 'Resume', icon: '▶', run: () => session.resumeFile(entry.id) }
  else if (entry.status === 'failed' && !entry.changed) action = { text: 'Retry', icon: '↻', run: () => void session.retryFile(entry.id) }
  return (
    <span className="flex w-7 shrink-0 justify-end">
      {action && (
        <button type="button" onClick={action.run} className={ICON_BUTTON} aria-label={`${action.text} ${entry.name}`} title={action.text}>
          <span aria-hidden="true">{action.icon}</span>
        </button>
      )}
    </span>
  )
}

/** A file that changed on disk after it was chosen: only choosing it again can help. */
function ChooseAgain({ entry, session }: { entry: EntryView; session: SessionView }) {
  const id = useId()
  return (
    <span>
      <input
        id={id}
        type="file"
        className="peer sr-only"
        aria-label={`Choose ${entry.name} again`}
        data-testid="choose-again-input"
        onChange={(e) => {
          const file = e.target.files?.[0]
          if (file) session.replaceFile(entry.id, file)
          e.target.value = ''
        }}
      />
      <label
        htmlFor={id}
        className="inline-block cursor-pointer rounded-md bg-white px-2.5 py-1 text-xs font-semibold text-red-800 ring-1 ring-red-300 ring-inset peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-red-600 hover:bg-red-50"
      >
        Choose it again
      </label>
    </span>
  )
}
