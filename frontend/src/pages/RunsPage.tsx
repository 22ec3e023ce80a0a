import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { Alert } from '../components/Alert'
import { SkeletonRows } from '../components/Spinner'
import { StatusBadge } from '../components/StatusBadge'
import { errorMessage } from '../lib/api'
import { useApp } from '../lib/context'
import { formatBytes, formatDateTime, shortId } from '../lib/format'
import { navigate, runHref, runsHref } from '../lib/router'
import { RUN_STATUSES, type RunPage, type RunStatus } from '../lib/types'
import { PageHeader } from './PageHeader'

export const PAGE_SIZE = 25
/** How often the list refreshes while a run on it is pending. */
export const LIVE_REFRESH_MS = 2000

const selectClass =
  'block w-full rounded-lg border-0 bg-white py-2 pr-8 pl-3 text-sm text-slate-900 shadow-sm ring-1 ring-slate-300 ring-inset focus:ring-2 focus:ring-teal-600 focus:ring-inset'
const pagerButton =
  'rounded-lg bg-white px-3 py-1.5 text-sm font-medium text-slate-800 shadow-sm ring-1 ring-slate-300 ring-inset hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-700 disabled:cursor-not-allowed disabled:opacity-40'

export function anyPending(page: RunPage | undefined): boolean {
  return Boolean(page?.items.some((run) => run.status === 'pending'))
}

export function RunsPage({ status, type, refreshMs = LIVE_REFRESH_MS }: { status: string; type: string; refreshMs?: number }) {
  const { api, config } = useApp()
  // Keyset pagination: a stack of cursors, [null] being the newest page. (App remounts this
  // page when the filters change, which starts the stack again.)
  const [cursors, setCursors] = useState<(string | null)[]>([null])
  const cursor = cursors[cursors.length - 1]
  const ids = { status: useId(), type: useId() }

  const query = useQuery({
    queryKey: ['runs', { status, type, cursor }],
    queryFn: ({ signal }) =>
      api.listRuns({ status: status as RunStatus | '', type, cursor, limit: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (anyPending(q.state.data) ? refreshMs : false),
  })
  const page = query.data
  const live = anyPending(page)
  const filtered = Boolean(status || type)
  const types = type && !config.runTypes.includes(type) ? [...config.runTypes, type] : config.runTypes

  return (
    <div className="space-y-6">
      <PageHeader title="Runs" subtitle="Every upload is a run; it turns stored when the server has verified all its files.">
        <a
          href="#/upload"
          className="rounded-lg bg-teal-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-teal-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-700"
        >
          New upload
        </a>
      </PageHeader>

      <form
        className="flex flex-wrap items-end gap-4"
        aria-label="Filter runs"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="w-44 space-y-1">
          <label htmlFor={ids.status} className="block text-sm font-medium text-slate-800">
            Status
          </label>
          <select
            id={ids.status}
            className={selectClass}
            value={status}
            onChange={(e) => navigate(runsHref({ status: e.target.value, type }))}
          >
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="w-48 space-y-1">
          <label htmlFor={ids.type} className="block text-sm font-medium text-slate-800">
            Type
          </label>
          <select
            id={ids.type}
            className={selectClass}
            value={type}
            onChange={(e) => navigate(runsHref({ status, type: e.target.value }))}
          >
            <option value="">Any type</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <a href={runsHref()} className="pb-2 text-sm font-medium text-teal-800 underline">
            Clear filters
          </a>
        )}
        <p className="ml-auto pb-2 text-xs text-slate-500" aria-live="polite">
          {live ? (
            <span className="inline-flex items-center gap-1.5">
              <span className="h-2 w-2 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
              Live: refreshing while runs are pending
            </span>
          ) : query.isFetching && !query.isLoading ? (
            'Refreshing…'
          ) : null}
        </p>
      </form>

      {query.isError && (
        <Alert tone="error" title="Could not load the runs">
          <p>{errorMessage(query.error)}</p>
          <button type="button" className="font-semibold underline" onClick={() => void query.refetch()}>
            Try again
          </button>
        </Alert>
      )}

      <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
        <table className="min-w-full divide-y divide-slate-200 text-sm" aria-busy={query.isLoading}>
          <caption className="sr-only">
            Runs, newest first{status ? `, status ${status}` : ''}
            {type ? `, type ${type}` : ''}
          </caption>
          <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase">
            <tr>
              <th scope="col" className="px-2 py-2.5 sm:px-3">Run</th>
              <th scope="col" className="hidden px-2 py-2.5 sm:px-3 sm:table-cell">Type</th>
              <th scope="col" className="px-2 py-2.5 sm:px-3">Label</th>
              <th scope="col" className="px-2 py-2.5 sm:px-3">Status</th>
              <th scope="col" className="hidden px-2 py-2.5 sm:px-3 text-right sm:table-cell">Files</th>
              <th scope="col" className="px-2 py-2.5 sm:px-3 text-right">Size</th>
              <th scope="col" className="hidden px-2 py-2.5 sm:px-3 md:table-cell">Created</th>
              <th scope="col" className="hidden px-2 py-2.5 sm:px-3 lg:table-cell">Stored</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {query.isLoading && <SkeletonRows rows={6} cols={8} />}
            {page?.items.map((run) => (
              <tr key={run.id} className="hover:bg-slate-50" data-testid="run-row" data-run-id={run.id}>
                <td className="px-2 py-2.5 sm:px-3 whitespace-nowrap">
                  <a href={runHref(run.id)} className="font-mono font-medium text-teal-800 underline-offset-2 hover:underline" title={run.id}>
                    {shortId(run.id)}
                  </a>
                </td>
                <td className="hidden px-2 py-2.5 sm:px-3 whitespace-nowrap text-slate-700 sm:table-cell">{run.type}</td>
                <td className="max-w-[10rem] truncate px-2 py-2.5 sm:px-3 text-slate-900 sm:max-w-[16rem]" title={run.label ?? ''}>
                  {run.label ?? <span className="text-slate-400">—</span>}
                </td>
                <td className="px-2 py-2.5 sm:px-3">
                  <StatusBadge status={run.status} />
                </td>
                <td className="hidden px-2 py-2.5 sm:px-3 text-right tabular-nums sm:table-cell">{run.file_count}</td>
                <td className="px-2 py-2.5 sm:px-3 text-right whitespace-nowrap tabular-nums">{formatBytes(run.total_bytes)}</td>
                <td className="hidden px-2 py-2.5 sm:px-3 whitespace-nowrap text-slate-600 md:table-cell">{formatDateTime(run.created_at)}</td>
                <td className="hidden px-2 py-2.5 sm:px-3 whitespace-nowrap text-slate-600 lg:table-cell">{formatDateTime(run.stored_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 && (
          <div className="px-6 py-12 text-center">
            <p className="font-medium text-slate-800">{filtered ? 'No runs match these filters.' : 'No runs yet.'}</p>
            <p className="mt-1 text-sm text-slate-500">
              {filtered ? (
                <a className="underline" href={runsHref()}>
                  Show all runs
                </a>
              ) : (
                <>
                  <a className="underline" href="#/upload">
                    Upload files
                  </a>{' '}
                  or drop them into the bucket's <code className="font-mono">inbox/</code>.
                </>
              )}
            </p>
          </div>
        )}
      </div>

      <nav className="flex items-center justify-between gap-3" aria-label="Pages of runs">
        <button
          type="button"
          className={pagerButton}
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </button>
        <span className="text-sm text-slate-600">Page {cursors.length}</span>
        <button
          type="button"
          className={pagerButton}
          disabled={!page?.next_cursor || query.isPlaceholderData}
          onClick={() => page?.next_cursor && setCursors((c) => [...c, page.next_cursor])}
        >
          Older →
        </button>
      </nav>
    </div>
  )
}
