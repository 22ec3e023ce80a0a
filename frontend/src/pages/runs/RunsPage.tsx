import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Alert } from '../../components/Alert'
import { buttonClass } from '../../components/Button'
import { errorMessage } from '../../lib/api'
import { useApp } from '../../lib/context'
import type { RunPage, RunStatus } from '../../lib/types'
import { PageHeader } from '../PageHeader'
import { Pager } from './Pager'
import { RunFilters } from './RunFilters'
import { RunsTable } from './RunsTable'

export const PAGE_SIZE = 25
/** How often the list refreshes while a run on it is pending. */
export const LIVE_REFRESH_MS = 2000

export function anyPending(page: RunPage | undefined): boolean {
  return Boolean(page?.items.some((run) => run.status === 'pending'))
}

export function RunsPage({ status, type, refreshMs = LIVE_REFRESH_MS }: { status: string; type: string; refreshMs?: number }) {
  const { api, config } = useApp()
  // Keyset pagination: a stack of cursors, [null] being the newest page. (App remounts this
  // page when the filters change, which starts the stack again.)
  const [cursors, setCursors] = useState<(string | null)[]>([null])
  const cursor = cursors[cursors.length - 1]

  const query = useQuery({
    queryKey: ['runs', { status, type, cursor }],
    queryFn: ({ signal }) => api.listRuns({ status: status as RunStatus | '', type, cursor, limit: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (anyPending(q.state.data) ? refreshMs : false),
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
        status={status}
        type={type}
        runTypes={config.runTypes}
        state={live ? 'live' : query.isFetching && !query.isLoading ? 'refreshing' : 'idle'}
      />

      {query.isError && (
        <Alert tone="error" title="Could not load the runs">
          <p>{errorMessage(query.error)}</p>
          <button type="button" className="font-semibold underline" onClick={() => void query.refetch()}>
            Try again
          </button>
        </Alert>
      )}

      <RunsTable page={page} loading={query.isLoading} status={status} type={type} />

      <Pager
        page={cursors.length}
        onNewer={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : null}
        onOlder={next && !query.isPlaceholderData ? () => setCursors((c) => [...c, next]) : null}
      />
    </div>
  )
}
