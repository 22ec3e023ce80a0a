import { useSyncExternalStore } from 'react'
import { SkeletonRows } from '../../components/Spinner'
import { StatusBadge } from '../../components/StatusBadge'
import { displayText, formatBytes, formatDateTime, shortId } from '../../lib/format'
import { runHref, type RunsView, runsHref } from '../../lib/router'
import type { RunOut, RunPage } from '../../lib/types'
import { CancelRun } from '../run/CancelRun'

/** Tailwind's `sm`: from here the table's main columns fit; below it each run is a card. */
const WIDE = '(min-width: 40rem)'

function subscribeWide(onChange: () => void): () => void {
  const media = window.matchMedia?.(WIDE)
  media?.addEventListener('change', onChange)
  return () => media?.removeEventListener('change', onChange)
}

/** Whether the window is wide enough for the table (one layout in the page at a time, so a
 *  screen reader meets each run once). */
function useWide(): boolean {
  return useSyncExternalStore(subscribeWide, () => window.matchMedia?.(WIDE).matches ?? true)
}

/** What the list holds, for its accessible name. */
function describeView(view: RunsView): string {
  return [
    'Runs, newest first',
    view.status && `status ${view.status}`,
    view.type && `type ${view.type}`,
    view.q && `label contains “${displayText(view.q)}”`,
  ]
    .filter(Boolean)
    .join(', ')
}

const CELL = 'px-2 py-2.5 lg:px-3'

/**
 * One page of runs, newest first. From `sm` a table that fits the window: columns join as it
 * widens (Files at `md`, Created at `lg`, Type at `xl`) and the label wraps, so nothing scrolls
 * sideways and a row's Cancel can pop its confirm step over the rows below. Below `sm` a card per
 * run (id, size, status, label, then the rest): a phone shows every run whole. Pending runs have
 * a Cancel action. No page yet: placeholders.
 */
export function RunsTable({ page, view }: { page: RunPage | undefined; view: RunsView }) {
  const wide = useWide()
  const loading = !page
  const runs = page?.items ?? []
  return (
    <div className="rounded-xl border border-slate-200 bg-white shadow-sm">
      {wide ? (
        <table className="w-full divide-y divide-slate-200 text-sm" aria-busy={loading}>
          <caption className="sr-only">{describeView(view)}</caption>
          <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase">
            <tr>
              <th scope="col" className={`${CELL} rounded-tl-xl`}>Run</th>
              <th scope="col" className={`hidden ${CELL} xl:table-cell`}>Type</th>
              <th scope="col" className={CELL}>Label</th>
              <th scope="col" className={CELL}>Status</th>
              <th scope="col" className={`hidden ${CELL} text-right md:table-cell`}>Files</th>
              <th scope="col" className={`${CELL} text-right`}>Size</th>
              <th scope="col" className={`hidden ${CELL} lg:table-cell`}>Created</th>
              <th scope="col" className={`${CELL} rounded-tr-xl`}>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {loading && <SkeletonRows rows={6} cols={5} />}
            {runs.map((run) => (
              <RunRow key={run.id} run={run} />
            ))}
          </tbody>
        </table>
      ) : (
        <ul aria-label={describeView(view)} aria-busy={loading} className="divide-y divide-slate-100">
          {loading && <CardSkeletons />}
          {runs.map((run) => (
            <RunCard key={run.id} run={run} />
          ))}
        </ul>
      )}
      {page && runs.length === 0 && <EmptyState view={view} />}
    </div>
  )
}

function RunLink({ run }: { run: RunOut }) {
  return (
    <a href={runHref(run.id)} className="font-mono font-medium text-teal-800 underline-offset-2 hover:underline" title={run.id}>
      {shortId(run.id)}
    </a>
  )
}

/** A label is anyone's text: isolated (<bdi>) and without controls, so it cannot reorder the row. */
function Label({ run }: { run: RunOut }) {
  return run.label ? <bdi>{displayText(run.label)}</bdi> : <span className="text-slate-400">—</span>
}

function RunRow({ run }: { run: RunOut }) {
  return (
    <tr className="hover:bg-slate-50" data-testid="run-row" data-run-id={run.id}>
      <td className={`${CELL} whitespace-nowrap`}>
        <RunLink run={run} />
      </td>
      <td className={`hidden ${CELL} whitespace-nowrap text-slate-700 xl:table-cell`}>{run.type}</td>
      <td className={`${CELL} text-slate-900`}>
        {/* Two lines at most; a word as long as the column breaks anywhere rather than widen it. */}
        <div className="line-clamp-2 wrap-anywhere" title={displayText(run.label ?? '')}>
          <Label run={run} />
        </div>
      </td>
      <td className={`${CELL} whitespace-nowrap`}>
        <StatusBadge status={run.status} />
      </td>
      <td className={`hidden ${CELL} text-right tabular-nums md:table-cell`}>{run.file_count}</td>
      <td className={`${CELL} text-right whitespace-nowrap tabular-nums`}>{formatBytes(run.total_bytes)}</td>
      <td className={`hidden ${CELL} whitespace-nowrap text-slate-600 lg:table-cell`}>{formatDateTime(run.created_at)}</td>
      <td className={`${CELL} text-right`}>
        <CancelRun run={run} layout="row" />
      </td>
    </tr>
  )
}

function RunCard({ run }: { run: RunOut }) {
  const files = `${run.file_count} ${run.file_count === 1 ? 'file' : 'files'}`
  return (
    <li className="space-y-1.5 px-4 py-3 text-sm" data-testid="run-row" data-run-id={run.id}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <RunLink run={run} />
        <span className="ml-auto tabular-nums text-slate-900">{formatBytes(run.total_bytes)}</span>
        <StatusBadge status={run.status} />
      </div>
      <p className="wrap-anywhere text-slate-900">
        <Label run={run} />
      </p>
      <p className="flex flex-wrap gap-x-3 text-xs text-slate-600">
        <span>{run.type}</span>
        <span>{files}</span>
        <span>{formatDateTime(run.created_at)}</span>
      </p>
      <CancelRun run={run} layout="card" />
    </li>
  )
}

function CardSkeletons() {
  return Array.from({ length: 4 }, (_, i) => (
    <li key={i} aria-hidden="true" className="space-y-2 px-4 py-3">
      <div className="h-3 w-1/2 animate-pulse rounded bg-slate-200" />
      <div className="h-3 w-3/4 animate-pulse rounded bg-slate-200" />
    </li>
  ))
}

function EmptyState({ view }: { view: RunsView }) {
  const filtered = Boolean(view.status || view.type || view.q)
  return (
    <div className="px-6 py-12 text-center">
      <p className="font-medium text-slate-800">
        {view.q ? (
          <>
            No runs match “<bdi>{displayText(view.q)}</bdi>”{view.status || view.type ? ' with these filters' : ''}.
          </>
        ) : filtered ? (
          'No runs match these filters.'
        ) : (
          'No runs yet.'
        )}
      </p>
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
  )
}
