import { Field } from '../../components/Field'
import { Select } from '../../components/Select'
import { navigate, type RunsView, runsHref } from '../../lib/router'
import { RUN_STATUSES } from '../../lib/types'
import { RunSearch } from './RunSearch'

/**
 * The label search and the status and type filters, all kept in the URL (a new one starts again
 * at the newest page); and whether the list refreshes by itself.
 */
export function RunFilters({
  view,
  runTypes,
  state,
  searchDelayMs,
}: {
  view: RunsView
  runTypes: readonly string[]
  state: 'live' | 'refreshing' | 'idle'
  searchDelayMs?: number
}) {
  const types = view.type && !runTypes.includes(view.type) ? [...runTypes, view.type] : runTypes
  const show = (change: Partial<RunsView>, replace = false) => navigate(runsHref({ ...view, ...change, after: [] }), { replace })
  return (
    <div className="flex flex-wrap items-start gap-x-4 gap-y-2">
      <RunSearch
        q={view.q}
        delayMs={searchDelayMs}
        // A search being refined replaces its history entry; starting or ending one adds one.
        onSearch={(q) => show({ q }, Boolean(view.q && q))}
      />
      <form className="flex flex-wrap items-end gap-4" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status" className="w-40">
          {(control) => (
            <Select {...control} value={view.status} empty="Any status" options={RUN_STATUSES} onChange={(e) => show({ status: e.target.value })} />
          )}
        </Field>
        <Field label="Type" className="w-44">
          {(control) => (
            <Select {...control} value={view.type} empty="Any type" options={types} onChange={(e) => show({ type: e.target.value })} />
          )}
        </Field>
        {(view.status || view.type || view.q) && (
          <a href={runsHref()} className="pb-2 text-sm font-medium text-teal-800 underline">
            Clear filters
          </a>
        )}
      </form>
      <p className="ml-auto self-end pb-2 text-xs text-slate-500" aria-live="polite">
        {state === 'live' ? (
          <span className="inline-flex items-center gap-1.5">
            <span className="h-2 w-2 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
            Live: refreshing while runs are pending
          </span>
        ) : state === 'refreshing' ? (
          'Refreshing…'
        ) : null}
      </p>
    </div>
  )
}
