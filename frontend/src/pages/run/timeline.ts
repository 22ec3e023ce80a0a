import { formatBytes } from '../../lib/format'
import type { Incident, IncidentKind, RunDetail } from '../../lib/types'

export interface TimelineEvent {
  /** When it happened; null when the API recorded no time (a failed file on a server older
   *  than `checked_at`), or for what a pending run waits for (it is happening now). */
  at: string | null
  title: string
  detail?: string
  tone: 'done' | 'bad' | 'warning' | 'waiting' | 'neutral'
}

// What the bucket did to a final file's key (docs/events.md). Overwritten and deleted keys keep
// the recorded version, so they warn; a lost version is bad.
const INCIDENTS: Record<IncidentKind, { verb: string; tone: TimelineEvent['tone'] }> = {
  overwritten: { verb: 'overwritten in the bucket', tone: 'warning' },
  deleted: { verb: 'deleted in the bucket', tone: 'warning' },
  version_lost: { verb: 'lost: its recorded version is gone', tone: 'bad' },
}

export function incidentEvent(incident: Incident, name: string): TimelineEvent {
  const { verb, tone } = INCIDENTS[incident.kind]
  return { at: incident.detected_at, title: `${name} ${verb}`, detail: incident.message, tone }
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
  // A lost file was stored first: its loss is an incident of its own. The sha256 is "verified"
  // only against one the client declared; without one the server computed it, and that is all.
  const dated = run.files
    .filter((f) => f.status !== 'pending')
    .map((f): TimelineEvent =>
      f.status === 'failed'
        ? { at: f.checked_at ?? null, title: `${f.name} failed`, detail: f.error?.message ?? f.error?.code, tone: 'bad' }
        : { at: f.stored_at, title: `${f.name} stored`, detail: f.declared_sha256 ? 'sha256 verified' : 'sha256 computed', tone: 'done' },
    )
  const stored = run.files.every((f) => f.declared_sha256) ? 'Every file is stored and its sha256 verified.' : 'Every file is stored.'
  // A run stored once says so where it happened, before anything the bucket did after.
  if (run.stored_at) dated.push({ at: run.stored_at, title: 'Run stored', detail: stored, tone: 'done' })
  const names = new Map(run.files.map((f) => [f.id, f.name]))
  for (const incident of run.incidents ?? []) {
    dated.push(incidentEvent(incident, names.get(incident.file_id) ?? incident.key))
  }
  // Stable: events of the same moment keep the order above (files, the run, incidents). One
  // without a time happened before the run's end: after the dated ones, before that end.
  dated.sort((a, b) => (a.at === null || b.at === null ? Number(a.at === null) - Number(b.at === null) : a.at.localeCompare(b.at)))
  events.push(...dated)
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
      if (!run.stored_at) {
        events.push({ at: run.updated_at, title: 'Run stored', detail: stored, tone: 'done' })
      }
      break
    case 'failed':
      events.push({
        at: run.updated_at,
        title: run.error?.code === 'files_lost' ? 'Run no longer stored' : 'Run failed',
        detail: run.error?.message,
        tone: 'bad',
      })
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
