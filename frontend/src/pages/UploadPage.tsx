import { type FormEvent, useEffect, useId, useState, useSyncExternalStore } from 'react'
import { Alert } from '../components/Alert'
import { DropZone } from '../components/DropZone'
import { ProgressBar } from '../components/ProgressBar'
import { StatusBadge } from '../components/StatusBadge'
import { useApp } from '../lib/context'
import { formatBytes, formatDuration, formatSpeed } from '../lib/format'
import { runHref } from '../lib/router'
import { percent } from '../upload/progress'
import type { EntryView, Snapshot, UploadSession } from '../upload/session'
import { PageHeader } from './PageHeader'

const inputClass =
  'block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-slate-300 ring-inset placeholder:text-slate-400 focus:ring-2 focus:ring-teal-600 focus:ring-inset disabled:bg-slate-50 disabled:text-slate-500'
const primaryButton =
  'inline-flex items-center justify-center gap-2 rounded-lg bg-teal-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-teal-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-700 disabled:cursor-not-allowed disabled:bg-slate-300'
const secondaryButton =
  'inline-flex items-center justify-center gap-2 rounded-lg bg-white px-4 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-slate-300 ring-inset hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-700 disabled:cursor-not-allowed disabled:opacity-50'
const dangerButton =
  'inline-flex items-center justify-center gap-2 rounded-lg bg-white px-4 py-2 text-sm font-semibold text-red-700 shadow-sm ring-1 ring-red-300 ring-inset hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600 disabled:cursor-not-allowed disabled:opacity-50'

export function useSession(session: UploadSession): Snapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot)
}

const PHASE_TEXT: Partial<Record<Snapshot['phase'], string>> = {
  hashing: 'Computing checksums…',
  creating: 'Creating the run…',
  uploading: 'Uploading to the bucket…',
  cancelling: 'Cancelling…',
}

export function UploadPage({ session }: { session: UploadSession }) {
  const { config } = useApp()
  const snap = useSession(session)
  const [type, setType] = useState(config.defaultRunType)
  const [label, setLabel] = useState('')
  const [notes, setNotes] = useState('')
  const ids = { type: useId(), label: useId(), notes: useId(), notesHint: useId() }
  const locked = snap.phase !== 'idle'
  // Once the run exists (or is resumed after a reload), show what it was created with.
  const shown =
    locked && snap.run
      ? { type: snap.run.type, label: snap.run.label ?? '', notes: snap.run.notes ?? '' }
      : { type, label, notes }
  const types = config.runTypes.includes(shown.type) ? config.runTypes : [...config.runTypes, shown.type]

  // Leaving mid-upload pauses it (it can be resumed), but say so before it happens.
  useEffect(() => {
    if (!session.busy) return
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault()
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [session, snap.phase])

  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    void session.start({ type, label, notes })
  }

  const count = snap.entries.length
  return (
    <div className="space-y-6">
      <PageHeader
        title="Upload files"
        subtitle="Files go straight from your browser to the bucket. Each is checksummed (SHA-256) here first, and the server verifies it after the upload."
      />

      {snap.resume && !session.busy && <ResumeBanner session={session} snap={snap} />}

      {snap.error && (
        <Alert tone="error" title={snap.error.title} onDismiss={() => session.dismissError()}>
          <p data-testid="upload-error">{snap.error.message}</p>
          {snap.error.details.length > 0 && (
            <ul className="list-disc pl-5">
              {snap.error.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </Alert>
      )}
      {snap.notice && <Alert tone="info">{snap.notice}</Alert>}

      <form onSubmit={onSubmit} className="space-y-6" aria-label="New upload" noValidate>
        <div className="grid gap-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:grid-cols-2 sm:p-6">
          <div className="space-y-1">
            <label htmlFor={ids.type} className="block text-sm font-medium text-slate-800">
              Run type
            </label>
            <select
              id={ids.type}
              value={shown.type}
              onChange={(e) => setType(e.target.value)}
              disabled={locked}
              className={inputClass}
            >
              {types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div className="space-y-1">
            <label htmlFor={ids.label} className="block text-sm font-medium text-slate-800">
              Label <span className="font-normal text-slate-500">(optional)</span>
            </label>
            <input
              id={ids.label}
              value={shown.label}
              onChange={(e) => setLabel(e.target.value)}
              maxLength={200}
              disabled={locked}
              placeholder="e.g. prod search head"
              className={inputClass}
            />
          </div>
          <div className="space-y-1 sm:col-span-2">
            <label htmlFor={ids.notes} className="block text-sm font-medium text-slate-800">
              Notes <span className="font-normal text-slate-500">(optional)</span>
            </label>
            <textarea
              id={ids.notes}
              value={shown.notes}
              onChange={(e) => setNotes(e.target.value)}
              maxLength={10_000}
              rows={3}
              disabled={locked}
              aria-describedby={ids.notesHint}
              className={inputClass}
            />
            <p id={ids.notesHint} className="text-xs text-slate-500">
              Anything the people processing this run should know.
            </p>
          </div>
        </div>

        {!locked && <DropZone onFiles={(files) => session.addFiles(files)} />}

        {count > 0 && <FileList snap={snap} session={session} />}

        {(snap.phase === 'uploading' || snap.phase === 'failed' || snap.phase === 'done' || snap.phase === 'cancelling') && (
          <OverallProgress snap={snap} />
        )}
        {snap.phase === 'hashing' && (
          <div className="space-y-2" aria-live="polite">
            <p className="text-sm text-slate-700">
              Computing checksums… {percent(snap.hashing.fraction)}% of {formatBytes(snap.hashing.total)}
            </p>
            <ProgressBar value={snap.hashing.fraction} label="Checksums computed" tone="sky" />
          </div>
        )}

        <Actions snap={snap} session={session} />
      </form>

      {snap.phase === 'done' && snap.run && (
        <Alert tone="success" title="All files are in the bucket">
          <p>
            Run <code className="font-mono">{snap.run.id}</code> is being verified: it turns{' '}
            <strong>stored</strong> once the server has checked every file.{' '}
            <a className="font-semibold underline" href={runHref(snap.run.id)}>
              Open the run
            </a>
          </p>
        </Alert>
      )}
      {snap.phase === 'cancelled' && snap.run && (
        <p className="text-sm text-slate-600">
          Run{' '}
          <a className="font-mono underline" href={runHref(snap.run.id)}>
            {snap.run.id}
          </a>{' '}
          is <StatusBadge status={snap.run.status} />
        </p>
      )}
    </div>
  )
}

function Actions({ snap, session }: { snap: Snapshot; session: UploadSession }) {
  const count = snap.entries.length
  const phase = snap.phase
  return (
    <div className="flex flex-wrap items-center gap-3">
      {(phase === 'idle' || phase === 'hashing' || phase === 'creating') && (
        <button type="submit" className={primaryButton} disabled={count === 0 || phase !== 'idle'}>
          {phase !== 'idle' ? PHASE_TEXT[phase] : count === 0 ? 'Upload files' : `Upload ${count === 1 ? '1 file' : `${count} files`}`}
        </button>
      )}
      {phase === 'failed' && (
        <button type="button" className={primaryButton} onClick={() => void session.retry()}>
          Retry failed files
        </button>
      )}
      {(phase === 'hashing' || phase === 'creating' || phase === 'uploading' || phase === 'failed' || phase === 'cancelling') && (
        <button
          type="button"
          className={dangerButton}
          disabled={phase === 'cancelling'}
          onClick={() => void session.cancel()}
        >
          {phase === 'cancelling' ? 'Cancelling…' : 'Cancel upload'}
        </button>
      )}
      {(phase === 'done' || phase === 'cancelled') && (
        <button type="button" className={secondaryButton} onClick={() => session.reset()}>
          Upload more files
        </button>
      )}
      {phase === 'idle' && count > 0 && (
        <button type="button" className={secondaryButton} onClick={() => session.reset()}>
          Clear
        </button>
      )}
      {snap.run && phase !== 'done' && phase !== 'cancelled' && (
        <span className="text-sm text-slate-600">
          Run{' '}
          <a className="font-mono underline" href={runHref(snap.run.id)}>
            {snap.run.id.slice(0, 8)}
          </a>
        </span>
      )}
    </div>
  )
}

/** "8.1 MB/s · 2 s left", or what is known so far. */
export function rateText(speed: number | null, eta: number | null): string {
  if (speed === null) return 'measuring speed…'
  if (speed === 0) return 'stalled: waiting for the network…'
  return `${formatSpeed(speed)} · ${eta === null ? 'estimating time left…' : `${formatDuration(eta)} left`}`
}

function OverallProgress({ snap }: { snap: Snapshot }) {
  const { overall } = snap
  const active = snap.phase === 'uploading'
  return (
    <section aria-label="Overall progress" className="space-y-2 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1 text-sm">
        <p className="font-medium text-slate-800">
          <span data-testid="overall-percent">{percent(overall.fraction)}%</span> ·{' '}
          {formatBytes(overall.done)} of {formatBytes(overall.total)}
        </p>
        {active && <p className="text-slate-600">{rateText(overall.speed, overall.eta)}</p>}
      </div>
      <ProgressBar
        value={overall.fraction}
        label="Overall upload progress"
        tone={snap.phase === 'failed' ? 'red' : 'teal'}
      />
    </section>
  )
}

function FileList({ snap, session }: { snap: Snapshot; session: UploadSession }) {
  const total = snap.entries.reduce((n, e) => n + e.size, 0)
  return (
    <section aria-labelledby="files-heading" className="rounded-xl border border-slate-200 bg-white shadow-sm">
      <h2 id="files-heading" className="border-b border-slate-200 px-4 py-3 text-sm font-semibold text-slate-800">
        {snap.entries.length === 1 ? '1 file' : `${snap.entries.length} files`} · {formatBytes(total)}
      </h2>
      <ul className="divide-y divide-slate-100">
        {snap.entries.map((entry) => (
          <FileRow key={entry.id} entry={entry} removable={snap.phase === 'idle'} onRemove={() => session.removeFile(entry.id)} />
        ))}
      </ul>
    </section>
  )
}

function FileRow({ entry, removable, onRemove }: { entry: EntryView; removable: boolean; onRemove: () => void }) {
  const showUpload = entry.status !== 'selected'
  return (
    <li className="space-y-2 px-4 py-3" data-testid="file-row" aria-label={entry.name}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="min-w-0 flex-1 truncate font-medium text-slate-900" title={entry.name}>
          {entry.name}
        </span>
        <span className="text-sm text-slate-500">{formatBytes(entry.size)}</span>
        {entry.method === 'multipart' && entry.partCount !== null && (
          <span className="text-xs text-slate-500">{entry.partCount} parts</span>
        )}
        {showUpload && <StatusBadge status={entry.status} />}
        {removable && (
          <button
            type="button"
            onClick={onRemove}
            className="rounded p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-teal-600"
            aria-label={`Remove ${entry.name}`}
          >
            ✕
          </button>
        )}
      </div>
      <p className="font-mono text-xs break-all text-slate-500">
        {entry.hashState === 'done' && entry.sha256 ? (
          <>sha256 {entry.sha256}</>
        ) : entry.hashState === 'error' ? (
          <span className="text-red-700">sha256 could not be computed: {entry.error}</span>
        ) : (
          <>sha256: computing… {percent(entry.hashFraction)}%</>
        )}
      </p>
      {showUpload && (
        <div className="space-y-1">
          <ProgressBar
            value={entry.fraction}
            label={`Upload progress of ${entry.name}`}
            size="sm"
            tone={entry.status === 'failed' ? 'red' : entry.status === 'cancelled' ? 'slate' : 'teal'}
          />
          <p className="flex flex-wrap gap-x-3 text-xs text-slate-600">
            <span>
              {percent(entry.fraction)}% · {formatBytes(entry.uploaded)} of {formatBytes(entry.size)}
            </span>
            {entry.status === 'uploading' && <span>{rateText(entry.speed, entry.eta)}</span>}
          </p>
          {entry.error && entry.status === 'failed' && (
            <p className="text-sm text-red-700" role="alert">
              {entry.error}
            </p>
          )}
        </div>
      )}
    </li>
  )
}

function ResumeBanner({ session, snap }: { session: UploadSession; snap: Snapshot }) {
  const record = snap.resume!
  const left = record.files.filter((f) => !f.done)
  const [choosing, setChoosing] = useState(false)
  return (
    <section
      aria-labelledby="resume-heading"
      className="space-y-3 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950"
    >
      <h2 id="resume-heading" className="font-semibold">
        An upload was interrupted
      </h2>
      <p>
        Run <code className="font-mono">{record.runId}</code> ({record.type}
        {record.label ? `, “${record.label}”` : ''}) still waits for{' '}
        {left.map((f, i) => (
          <span key={f.fileId}>
            {i > 0 && ', '}
            <strong>{f.name}</strong> ({formatBytes(f.size)})
          </span>
        ))}
        . Choose the same {left.length === 1 ? 'file' : 'files'} again to continue where the upload stopped; parts already
        in the bucket are not sent again.
      </p>
      {choosing ? (
        <DropZone
          onFiles={(files) => void session.resumeWith(files)}
          title="Drop the same files here to resume"
          buttonLabel="Choose files to resume"
          testId="resume-file-input"
        />
      ) : (
        <div className="flex flex-wrap gap-3">
          <button type="button" className={primaryButton} onClick={() => setChoosing(true)}>
            Resume upload
          </button>
          <button type="button" className={dangerButton} onClick={() => void session.discardResume()}>
            Discard and cancel the run
          </button>
        </div>
      )}
    </section>
  )
}
