import { SkeletonRows } from '../../components/Spinner'
import { StatusBadge } from '../../components/StatusBadge'
import { displayText, formatBytes, formatDateTime, shortId } from '../../lib/format'
import { runHref, runsHref } from '../../lib/router'
import type { RunOut, RunPage } from '../../lib/types'

const CELL = 'px-2 py-2.5 sm:px-3'

/** One page of runs, newest first; its less important columns hide on small screens. */
export function RunsTable({ page, loading, status, type }: { page: RunPage | undefined; loading: boolean; status: string; type: string }) {
  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
      <table className="min-w-full divide-y divide-slate-200 text-sm" aria-busy={loading}>
        <caption className="sr-only">
          Runs, newest first{status ? `, status ${status}` : ''}
          {type ? `, type ${type}` : ''}
        </caption>
        <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase">
          <tr>
            <th scope="col" className={CELL}>Run</th>
            <th scope="col" className={`hidden ${CELL} sm:table-cell`}>Type</th>
            <th scope="col" className={CELL}>Label</th>
            <th scope="col" className={CELL}>Status</th>
            <th scope="col" className={`hidden ${CELL} text-right sm:table-cell`}>Files</th>
            <th scope="col" className={`${CELL} text-right`}>Size</th>
            <th scope="col" className={`hidden ${CELL} md:table-cell`}>Created</th>
            <th scope="col" className={`hidden ${CELL} lg:table-cell`}>Stored</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {loading && <SkeletonRows rows={6} cols={8} />}
          {page?.items.map((run) => <RunRow key={run.id} run={run} />)}
        </tbody>
      </table>
      {page && page.items.length === 0 && <EmptyState filtered={Boolean(status || type)} />}
    </div>
  )
}

function RunRow({ run }: { run: RunOut }) {
  return (
    <tr className="hover:bg-slate-50" data-testid="run-row" data-run-id={run.id}>
      <td className={`${CELL} whitespace-nowrap`}>
        <a href={runHref(run.id)} className="font-mono font-medium text-teal-800 underline-offset-2 hover:underline" title={run.id}>
          {shortId(run.id)}
        </a>
      </td>
      <td className={`hidden ${CELL} whitespace-nowrap text-slate-700 sm:table-cell`}>{run.type}</td>
      {/* A label is anyone's text: isolated (<bdi>) and without controls, so it cannot reorder the row. */}
      <td className={`max-w-[10rem] truncate ${CELL} text-slate-900 sm:max-w-[16rem]`} title={displayText(run.label ?? '')}>
        {run.label ? <bdi>{displayText(run.label)}</bdi> : <span className="text-slate-400">—</span>}
      </td>
      <td className={CELL}>
        <StatusBadge status={run.status} />
      </td>
      <td className={`hidden ${CELL} text-right tabular-nums sm:table-cell`}>{run.file_count}</td>
      <td className={`${CELL} text-right whitespace-nowrap tabular-nums`}>{formatBytes(run.total_bytes)}</td>
      <td className={`hidden ${CELL} whitespace-nowrap text-slate-600 md:table-cell`}>{formatDateTime(run.created_at)}</td>
      <td className={`hidden ${CELL} whitespace-nowrap text-slate-600 lg:table-cell`}>{formatDateTime(run.stored_at)}</td>
    </tr>
  )
}

function EmptyState({ filtered }: { filtered: boolean }) {
  return (
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
  )
}
