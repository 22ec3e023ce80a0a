import { CopyButton } from '../../components/CopyButton'
import { StatusBadge } from '../../components/StatusBadge'
import { displayText, formatBytes, formatDateTime } from '../../lib/format'
import type { FileOut, RunStatus } from '../../lib/types'
import { DownloadButton } from './DownloadButton'
import { FileContents } from './FileContents'
import { isArchiveName } from './manifest'

/** The run's files: size, status, the server's sha256 with a copy button, key and errors; a
 *  stored file's download button, and a stored archive's contents. `refreshMs`: how often a
 *  pending manifest is asked again. `runStatus`: a file still pending in a run that no longer
 *  is (cancelled, expired, failed) will never arrive. */
export function RunFiles({ files, refreshMs, runStatus }: { files: FileOut[]; refreshMs: number; runStatus: RunStatus }) {
  return (
    <section aria-labelledby="files-heading" className="space-y-3">
      <h2 id="files-heading" className="text-lg font-semibold text-slate-900">
        Files
      </h2>
      {files.length === 0 ? (
        <p className="text-sm text-slate-500">This run has no files.</p>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white shadow-sm">
          {files.map((file) => (
            <RunFile key={file.id} file={file} refreshMs={refreshMs} abandoned={file.status === 'pending' && runStatus !== 'pending'} />
          ))}
        </ul>
      )}
    </section>
  )
}

function RunFile({ file, refreshMs, abandoned }: { file: FileOut; refreshMs: number; abandoned: boolean }) {
  // Names and keys are anyone's text (a key dropped into the bucket): shown without controls,
  // each isolated in <bdi> so it cannot reorder what is next to it.
  const name = displayText(file.name)
  return (
    <li className="space-y-2 px-4 py-3" data-testid="run-file" aria-label={name}>
      {/* On a phone the name has a line of its own; size, status and Download go below it. */}
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="min-w-0 basis-full font-medium wrap-anywhere text-slate-900 sm:flex-1">
          <bdi>{name}</bdi>
        </span>
        <span className="text-sm text-slate-500">{formatBytes(file.size_bytes)}</span>
        {/* A lost file looks like a failed one: it is no longer stored. */}
        {abandoned ? (
          <StatusBadge status="cancelled" label="not uploaded" />
        ) : (
          <StatusBadge status={file.status === 'lost' ? 'failed' : file.status} label={file.status} />
        )}
        {file.status === 'stored' && <DownloadButton file={file} />}
      </div>
      <div className="flex flex-wrap items-center gap-2 text-xs">
        <span className="font-medium text-slate-500">sha256</span>
        {file.sha256 ? (
          <>
            <code className="min-w-0 font-mono break-all text-slate-800" data-testid="file-sha256">
              {file.sha256}
            </code>
            <CopyButton text={file.sha256} label={`Copy the sha256 of ${name}`} />
          </>
        ) : (
          <span className="text-slate-500">
            {file.status === 'pending' && !abandoned ? 'computed once the file is in the bucket' : '—'}
            {file.declared_sha256 && (
              <>
                {' '}
                (declared <code className="font-mono break-all">{file.declared_sha256}</code>)
              </>
            )}
          </span>
        )}
      </div>
      <p className="text-xs break-words text-slate-500">
        <span className="font-medium">key</span> <code className="font-mono break-all">
          <bdi>{displayText(file.key)}</bdi>
        </code> · {file.content_type}
        {file.stored_at && <> · stored {formatDateTime(file.stored_at)}</>}
      </p>
      {file.version_id && (
        <p className="text-xs break-words text-slate-500">
          <span className="font-medium">version</span>{' '}
          <code className="font-mono break-all" data-testid="file-version">
            {file.version_id}
          </code>
        </p>
      )}
      {file.error && (
        <p className="text-sm text-red-700">
          <strong>{file.error.code}</strong>: <bdi>{displayText(file.error.message)}</bdi>
        </p>
      )}
      {file.status === 'stored' && isArchiveName(file.name) && <FileContents file={file} refreshMs={refreshMs} />}
    </li>
  )
}
