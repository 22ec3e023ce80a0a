import { Field } from '../../components/Field'
import { Select } from '../../components/Select'
import { navigate, runsHref } from '../../lib/router'
import { RUN_STATUSES } from '../../lib/types'

/** Status and type filters, kept in the URL; and whether the list refreshes by itself. */
export function RunFilters({
  status,
  type,
  runTypes,
  state,
}: {
  status: string
  type: string
  runTypes: readonly string[]
  state: 'live' | 'refreshing' | 'idle'
}) {
  const types = type && !runTypes.includes(type) ? [...runTypes, type] : runTypes
  return (
    <form className="flex flex-wrap items-end gap-4" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <Field label="Status" className="w-44">
        {(control) => (
          <Select
            {...control}
            value={status}
            empty="Any status"
            options={RUN_STATUSES}
            onChange={(e) => navigate(runsHref({ status: e.target.value, type }))}
          />
        )}
      </Field>
      <Field label="Type" className="w-48">
        {(control) => (
          <Select
            {...control}
            value={type}
            empty="Any type"
            options={types}
            onChange={(e) => navigate(runsHref({ status, type: e.target.value }))}
          />
        )}
      </Field>
      {(status || type) && (
        <a href={runsHref()} className="pb-2 text-sm font-medium text-teal-800 underline">
          Clear filters
        </a>
      )}
      <p className="ml-auto pb-2 text-xs text-slate-500" aria-live="polite">
        {state === 'live' ? (
          <span className="inline-flex items-center gap-1.5">
            <span className="h-2 w-2 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
            Live: refreshing while runs are pending
          </span>
        ) : state === 'refreshing' ? (
          'Refreshing…'
        ) : null}
      </p>
    </form>
  )
}
