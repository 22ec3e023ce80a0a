import { useQuery } from '@tanstack/react-query'
import { Alert } from '../components/Alert'
import { CopyButton } from '../components/CopyButton'
import { Spinner } from '../components/Spinner'
import { StatusBadge } from '../components/StatusBadge'
import { ApiError, errorMessage } from '../lib/api'
import { useApp } from '../lib/context'
import { formatBytes, formatDateTime } from '../lib/format'
import { runsHref } from '../lib/router'
import type { RunDetail } from '../lib/types'
import { PageHeader } from './PageHeader'

export const DETAIL_REFRESH_MS = 1500

export interface TimelineEvent {
  at: string | null
  title: string
  detail?: string
  tone: 'done' | 'bad' | 'waiting' | 'neutral'
}

/** What happened to a run, oldest first; a pending run ends with what it waits for. */
export function timeline(run: RunDetail): TimelineEvent[] {
  const events: TimelineEvent[] = [
    {
      at: run.created_at,
      title: run.source === 'bucket' ? 'Adopted from the bucket' : 'Run created',
      detail: `${run.file_count} ${run.file_count === 1 ? 'file' : 'files'}, ${formatBytes(run.total_bytes)}, type ${run.type}`,
      tone: 'neutral',
    },
  ]
  const finished = run.files
    .filter((f) => f.status !== 'pending')
    .map((f): TimelineEvent =>
      f.status === 'stored'
        ? { at: f.stored_at, title: `${f.name} stored`, detail: 'sha256 verified', tone: 'done' }
        : { at: f.stored_at ?? null, title: `${f.name} failed`, detail: f.error?.message ?? f.error?.code, tone: 'bad' },
    )
  finished.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''))
  events.push(...finished)
  const waiting = run.files.filter((f) => f.status === 'pending').length
  switch (run.status) {
    case 'pending':
      events.push({
        at: null,
        title: `Waiting for ${waiting} ${waiting === 1 ? 'file' : 'files'}`,
        detail: 'Each file is verified after it reaches the bucket.',
        tone: 'waiting',
      })
      break
    case 'stored':
      events.push({ at: run.stored_at ?? run.updated_at, title: 'Run stored', detail: 'Every file is stored and verified.', tone: 'done' })
      break
    case 'failed':
      events.push({ at: run.updated_at, title: 'Run failed', detail: run.error?.message, tone: 'bad' })
      break
    case 'cancelled':
      events.push({ at: run.updated_at, title: 'Run cancelled', detail: 'Unfinished uploads were aborted.', tone: 'neutral' })
      break
    case 'expired':
      events.push({ at: run.updated_at, title: 'Run expired', detail: 'Its files did not all arrive in time.', tone: 'bad' })
      break
  }
  return events
}

const DOT = {
  done: 'bg-emerald-500 ring-emerald-100',
  bad: 'bg-red-500 ring-red-100',
  waiting: 'bg-amber-400 ring-amber-100 animate-pulse',
  neutral: 'bg-slate-400 ring-slate-100',
}

export function RunDetailPage({ id, refreshMs = DETAIL_REFRESH_MS }: { id: string; refreshMs?: number }) {
  const { api } = useApp()
  const query = useQuery({
    queryKey: ['run', id],
    queryFn: ({ signal }) => api.getRun(id, signal),
    refetchInterval: (q) => (q.state.data?.status === 'pending' ? refreshMs : false),
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  })
  const run = query.data

  if (query.isLoading) {
    return (
      <div className="space-y-6">
        <PageHeader title="Run" />
        <Spinner label="Loading the run…" />
      </div>
    )
  }
  if (query.isError || !run) {
    const notFound = query.error instanceof ApiError && query.error.status === 404
    return (
      <div className="space-y-6">
        <PageHeader title={notFound ? 'Run not found' : 'Run'} />
        <Alert tone="error" title={notFound ? 'There is no such run' : 'Could not load the run'}>
          <p>{errorMessage(query.error)}</p>
        </Alert>
        <a href={runsHref()} className="text-sm font-medium text-teal-800 underline">
          ← All runs
        </a>
      </div>
    )
  }

  return (
    <div className="space-y-6">
      <a href={runsHref()} className="text-sm font-medium text-teal-800 underline-offset-2 hover:underline">
        ← All runs
      </a>
      <PageHeader title={run.label ?? `Run ${run.id.slice(0, 8)}`}>
        <div className="flex items-center gap-2" aria-live="polite">
          <span className="sr-only">Status:</span>
          <StatusBadge status={run.status} />
          {run.status === 'pending' && <span className="text-xs text-slate-500">refreshing…</span>}
        </div>
      </PageHeader>

      {run.error && (
        <Alert tone="error" title={`Run ${run.status}: ${run.error.code}`}>
          <p>{run.error.message}</p>
        </Alert>
      )}

      <section aria-labelledby="summary-heading" className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
        <h2 id="summary-heading" className="sr-only">
          Summary
        </h2>
        <dl className="grid gap-x-6 gap-y-4 text-sm sm:grid-cols-2 lg:grid-cols-3">
          <Field term="Run id">
            <span className="flex items-center gap-2">
              <code className="font-mono text-xs break-all" data-testid="run-id">
                {run.id}
              </code>
              <CopyButton text={run.id} label="Copy run id" />
            </span>
          </Field>
          <Field term="Status">
            <span data-testid="run-status">{run.status}</span>
          </Field>
          <Field term="Type">{run.type}</Field>
          <Field term="Source">{run.source === 'api' ? 'uploaded (API)' : 'dropped into the bucket'}</Field>
          <Field term="Files">
            {run.file_count} · {formatBytes(run.total_bytes)}
          </Field>
          <Field term="Created">{formatDateTime(run.created_at)}</Field>
          <Field term="Updated">{formatDateTime(run.updated_at)}</Field>
          <Field term="Stored">{formatDateTime(run.stored_at)}</Field>
          {run.notes && (
            <div className="sm:col-span-2 lg:col-span-3">
              <dt className="font-medium text-slate-500">Notes</dt>
              <dd className="mt-1 whitespace-pre-wrap text-slate-900">{run.notes}</dd>
            </div>
          )}
        </dl>
      </section>

      <section aria-labelledby="files-heading" className="space-y-3">
        <h2 id="files-heading" className="text-lg font-semibold text-slate-900">
          Files
        </h2>
        {run.files.length === 0 ? (
          <p className="text-sm text-slate-500">This run has no files.</p>
        ) : (
          <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white shadow-sm">
            {run.files.map((file) => (
              <li key={file.id} className="space-y-2 px-4 py-3" data-testid="run-file" aria-label={file.name}>
                <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                  <span className="min-w-0 flex-1 font-medium break-all text-slate-900">{file.name}</span>
                  <span className="text-sm text-slate-500">{formatBytes(file.size_bytes)}</span>
                  <StatusBadge status={file.status} />
                </div>
                <div className="flex flex-wrap items-center gap-2 text-xs">
                  <span className="font-medium text-slate-500">sha256</span>
                  {file.sha256 ? (
                    <>
                      <code className="min-w-0 font-mono break-all text-slate-800" data-testid="file-sha256">
                        {file.sha256}
                      </code>
                      <CopyButton text={file.sha256} label={`Copy the sha256 of ${file.name}`} />
                    </>
                  ) : (
                    <span className="text-slate-500">
                      {file.status === 'pending' ? 'computed once the file is in the bucket' : '—'}
                      {file.declared_sha256 && (
                        <>
                          {' '}
                          (declared <code className="font-mono break-all">{file.declared_sha256}</code>)
                        </>
                      )}
                    </span>
                  )}
                </div>
                <p className="text-xs break-words text-slate-500">
                  <span className="font-medium">key</span> <code className="font-mono break-all">{file.key}</code> ·{' '}
                  {file.content_type}
                  {file.stored_at && <> · stored {formatDateTime(file.stored_at)}</>}
                </p>
                {file.error && (
                  <p className="text-sm text-red-700">
                    <strong>{file.error.code}</strong>: {file.error.message}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="timeline-heading" className="space-y-3">
        <h2 id="timeline-heading" className="text-lg font-semibold text-slate-900">
          Timeline
        </h2>
        <ol className="relative space-y-4 border-l-2 border-slate-200 pl-6">
          {timeline(run).map((event, i) => (
            <li key={i} className="relative">
              <span
                aria-hidden="true"
                className={`absolute top-1 -left-[1.95rem] h-3 w-3 rounded-full ring-4 ${DOT[event.tone]}`}
              />
              <p className="text-sm font-medium text-slate-900">{event.title}</p>
              <p className="text-xs text-slate-500">
                {event.at ? <time dateTime={event.at}>{formatDateTime(event.at)}</time> : 'now'}
                {event.detail && <> · {event.detail}</>}
              </p>
            </li>
          ))}
        </ol>
      </section>
    </div>
  )
}

function Field({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="font-medium text-slate-500">{term}</dt>
      <dd className="mt-1 text-slate-900">{children}</dd>
    </div>
  )
}
