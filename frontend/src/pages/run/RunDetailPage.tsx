import { useQuery } from '@tanstack/react-query'
import { Alert } from '../../components/Alert'
import { Spinner } from '../../components/Spinner'
import { StatusBadge } from '../../components/StatusBadge'
import { errorMessage, hasCode } from '../../lib/api'
import { displayText } from '../../lib/format'
import { useApp } from '../../lib/context'
import { runsHref } from '../../lib/router'
import type { RunDetail } from '../../lib/types'
import { PageHeader } from '../PageHeader'
import { CancelRun } from './CancelRun'
import { CannotLoad, CouldNotRefresh } from './LoadProblems'
import { RunFiles } from './RunFiles'
import { RunSummary } from './RunSummary'
import { Timeline } from './Timeline'

export const DETAIL_REFRESH_MS = 1500

const BACK_LINK = 'text-sm font-medium text-teal-800 underline-offset-2 hover:underline'

export function RunDetailPage({ id, refreshMs = DETAIL_REFRESH_MS }: { id: string; refreshMs?: number }) {
  const { api } = useApp()
  // Retries: the app's query client applies the page's one rule (lib/retry.ts).
  const query = useQuery({
    queryKey: ['run', id],
    queryFn: ({ signal }) => api.getRun(id, signal),
    refetchInterval: (q) => (q.state.data?.status === 'pending' ? refreshMs : false),
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
  if (!run) {
    // No run to show: the API refused (not found, or its message), did not answer, or the
    // query waits for the connection (paused: no error yet).
    const notFound = hasCode(query.error, 'not_found')
    return (
      <div className="space-y-6">
        <PageHeader title={notFound ? 'Run not found' : 'Run'} />
        {notFound ? (
          <Alert tone="error" title="There is no such run">
            <p>{displayText(errorMessage(query.error))}</p>
          </Alert>
        ) : (
          <CannotLoad what="this run" error={query.error} paused={query.isPaused} onRetry={() => void query.refetch()} />
        )}
        <a href={runsHref()} className={BACK_LINK}>
          ← All runs
        </a>
      </div>
    )
  }

  return (
    <div className="space-y-6">
      <a href={runsHref()} className={BACK_LINK}>
        ← All runs
      </a>
      <PageHeader title={run.label ? <bdi>{displayText(run.label)}</bdi> : `Run ${run.id.slice(0, 8)}`}>
        <div className="flex flex-wrap items-center gap-2" aria-live="polite">
          <span className="sr-only">Status:</span>
          <StatusBadge status={run.status} />
          {run.status === 'pending' && <span className="text-xs text-slate-500">refreshing…</span>}
        </div>
      </PageHeader>
      {query.isRefetchError && <CouldNotRefresh error={query.error} />}
      <CancelRun run={run} />
      {run.error && (
        <Alert tone="error" title={`Run ${run.status}: ${run.error.code}`}>
          <p>{displayText(run.error.message)}</p>
        </Alert>
      )}
      <IncidentsNotice run={run} />
      <RunSummary run={run} />
      <RunFiles files={run.files} refreshMs={refreshMs} runStatus={run.status} />
      <Timeline run={run} />
    </div>
  )
}

/** A stored run whose keys were written over or deleted in the bucket: still stored (each file's
 *  recorded version stays readable), but someone should know. */
function IncidentsNotice({ run }: { run: RunDetail }) {
  const incidents = run.incidents ?? []
  if (incidents.length === 0 || run.status !== 'stored') return null
  const files = new Set(incidents.map((i) => i.file_id)).size
  return (
    <Alert tone="warning" title={`The bucket changed under ${files} ${files === 1 ? 'file' : 'files'} of this run`}>
      <p>
        {incidents.length} integrity {incidents.length === 1 ? 'incident' : 'incidents'}: the recorded versions stay readable and
        their sha256 still holds. See the timeline.
      </p>
    </Alert>
  )
}
