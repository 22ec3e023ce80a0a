import { ProgressBar } from '../../components/ProgressBar'
import { StatusBadge } from '../../components/StatusBadge'
import { formatBytes, rateText } from '../../lib/format'
import { percent } from '../../upload/progress'
import type { EntryView } from '../../upload/session'

/** The chosen files, each with its checksum and, once sent, its upload progress. */
export function FileList({
  entries,
  removable,
  onRemove,
}: {
  entries: EntryView[]
  removable: boolean
  onRemove: (id: string) => void
}) {
  const total = entries.reduce((n, e) => n + e.size, 0)
  return (
    <section aria-labelledby="files-heading" className="rounded-xl border border-slate-200 bg-white shadow-sm">
      <h2 id="files-heading" className="border-b border-slate-200 px-4 py-3 text-sm font-semibold text-slate-800">
        {entries.length === 1 ? '1 file' : `${entries.length} files`} · {formatBytes(total)}
      </h2>
      <ul className="divide-y divide-slate-100">
        {entries.map((entry) => (
          <FileRow key={entry.id} entry={entry} removable={removable} onRemove={() => onRemove(entry.id)} />
        ))}
      </ul>
    </section>
  )
}

function FileRow({ entry, removable, onRemove }: { entry: EntryView; removable: boolean; onRemove: () => void }) {
  const showUpload = entry.status !== 'selected'
  return (
    <li className="space-y-2 px-4 py-3" data-testid="file-row" aria-label={entry.name}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="min-w-0 flex-1 truncate font-medium text-slate-900" title={entry.name}>
          {entry.name}
        </span>
        <span className="text-sm text-slate-500">{formatBytes(entry.size)}</span>
        {entry.method === 'multipart' && entry.partCount !== null && (
          <span className="text-xs text-slate-500">{entry.partCount} parts</span>
        )}
        {showUpload && <StatusBadge status={entry.status} />}
        {removable && (
          <button
            type="button"
            onClick={onRemove}
            className="rounded p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-teal-600"
            aria-label={`Remove ${entry.name}`}
          >
            ✕
          </button>
        )}
      </div>
      <Checksum entry={entry} />
      {showUpload && <FileProgress entry={entry} />}
    </li>
  )
}

function Checksum({ entry }: { entry: EntryView }) {
  return (
    <p className="font-mono text-xs break-all text-slate-500">
      {entry.hashState === 'done' && entry.sha256 ? (
        <>sha256 {entry.sha256}</>
      ) : entry.hashState === 'waiting' ? (
        <>sha256: computed while it uploads</>
      ) : entry.hashState === 'error' ? (
        <span className="text-red-700">sha256 could not be computed: {entry.error}</span>
      ) : (
        <>sha256: computing… {percent(entry.hashFraction)}%</>
      )}
    </p>
  )
}

function FileProgress({ entry }: { entry: EntryView }) {
  return (
    <div className="space-y-1">
      <ProgressBar
        value={entry.fraction}
        label={`Upload progress of ${entry.name}`}
        size="sm"
        tone={entry.status === 'failed' ? 'red' : entry.status === 'cancelled' ? 'slate' : 'teal'}
      />
      <p className="flex flex-wrap gap-x-3 text-xs text-slate-600">
        <span>
          {percent(entry.fraction)}% · {formatBytes(entry.uploaded)} of {formatBytes(entry.size)}
        </span>
        {entry.status === 'uploading' && <span>{rateText(entry.speed, entry.eta)}</span>}
      </p>
      {entry.error && entry.status === 'failed' && (
        <p className="text-sm text-red-700" role="alert">
          {entry.error}
        </p>
      )}
    </div>
  )
}
