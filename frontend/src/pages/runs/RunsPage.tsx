import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { buttonClass } from '../../components/Button'
import { useApp } from '../../lib/context'
import { navigate, type RunsView, runsHref } from '../../lib/router'
import type { RunPage, RunStatus } from '../../lib/types'
import { PageHeader } from '../PageHeader'
import { CannotLoad, CouldNotRefresh } from '../run/LoadProblems'
import { Pager } from './Pager'
import { RunFilters } from './RunFilters'
import { searchTerm } from './RunSearch'
import { RunsTable } from './RunsTable'

export const PAGE_SIZE = 25
/** How often the list refreshes while a run on it is pending. */
export const LIVE_REFRESH_MS = 2000

export function anyPending(page: RunPage | undefined): boolean {
  return Boolean(page?.items.some((run) => run.status === 'pending'))
}

/**
 * The runs list. Everything it shows comes from `view`, the URL's (filters, search, and the
 * cursors of the pages before this one), so a reload or Back/Forward finds the same page.
 */
export function RunsPage({
  view,
  refreshMs = LIVE_REFRESH_MS,
  searchDelayMs,
}: {
  view: RunsView
  refreshMs?: number
  searchDelayMs?: number
}) {
  const { api, config } = useApp()
  const cursor = view.after.at(-1) ?? null
  // A search the API would refuse (a URL typed by hand) is not sent; the box says why.
  const { term, problem } = searchTerm(view.q)
  const q = problem ? '' : term

  const query = useQuery({
    queryKey: ['runs', { status: view.status, type: view.type, q, cursor }],
    queryFn: ({ signal }) => api.listRuns({ status: view.status as RunStatus | '', type: view.type, q, cursor, limit: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (current) => (anyPending(current.state.data) ? refreshMs : false),
  })
  const page = query.data
  const live = anyPending(page)
  const next = page?.next_cursor

  return (
    <div className="space-y-6">
      <PageHeader title="Runs" subtitle="Every upload is a run; it turns stored when the server has verified all its files.">
        <a href="#/upload" className={buttonClass('primary')}>
          New upload
        </a>
      </PageHeader>

      <RunFilters
        view={view}
        runTypes={config.runTypes}
        searchDelayMs={searchDelayMs}
        state={live ? 'live' : query.isFetching && !query.isLoading ? 'refreshing' : 'idle'}
      />

      {page ? (
        <>
          {query.isRefetchError && <CouldNotRefresh error={query.error} />}
          <RunsTable page={page} view={view} />
          <Pager
            page={view.after.length + 1}
            onNewer={view.after.length > 0 ? () => navigate(runsHref({ ...view, after: view.after.slice(0, -1) })) : null}
            onOlder={next && !query.isPlaceholderData ? () => navigate(runsHref({ ...view, after: [...view.after, next] })) : null}
          />
        </>
      ) : query.isError || query.isPaused ? (
        <>
          <CannotLoad what="the runs" error={query.error} paused={query.isPaused} onRetry={() => void query.refetch()} />
          {view.after.length > 0 && (
            <a href={runsHref({ ...view, after: [] })} className="text-sm font-medium text-teal-800 underline">
              Go to the newest runs
            </a>
          )}
        </>
      ) : (
        <RunsTable page={undefined} view={view} />
      )}
    </div>
  )
}
