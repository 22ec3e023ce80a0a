import { formatBytes } from '../../lib/format'
import type { RunDetail } from '../../lib/types'

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
