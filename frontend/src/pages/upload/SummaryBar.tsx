import type { Ref } from 'react'
import { Alert } from '../../components/Alert'
import { Button } from '../../components/Button'
import { ProgressBar } from '../../components/ProgressBar'
import { displayText, fileCount, formatBytes, rateText } from '../../lib/format'
import { runHref } from '../../lib/router'
import { percent } from '../../upload/progress'
import type { ErrorView, SessionView, Snapshot } from '../../upload/snapshot'

/**
 * The upload at a glance, kept at the bottom of the screen while the page is longer than it:
 * what is chosen, what stops it, how far it is, the result, and the buttons of the moment.
 * `statusRef` gets focus when Upload is pressed, `resultRef` (the result's alert) when it ends.
 */
export function SummaryBar({
  snap,
  session,
  statusRef,
  resultRef,
  onUploadMore,
  onClear,
}: {
  snap: Snapshot
  session: SessionView
  statusRef: Ref<HTMLParagraphElement>
  resultRef: Ref<HTMLDivElement>
  onUploadMore: () => void
  onClear: () => void
}) {
  const { phase, overall } = snap
  const showProgress = phase === 'uploading' || phase === 'failed' || phase === 'done' || phase === 'cancelling'
  return (
    <section
      aria-label="Upload summary"
      className="sticky bottom-2 z-10 space-y-3 rounded-xl border border-slate-200 bg-white/95 p-3 shadow-lg backdrop-blur sm:p-4"
    >
      {snap.error && <UploadError error={snap.error} onDismiss={() => session.dismissError()} resultRef={resultRef} />}
      {phase === 'done' && snap.run && (
        <div ref={resultRef} tabIndex={-1} className="outline-none">
          <Alert tone="success" title="All files are in the bucket">
            <p>
              Run <code className="font-mono break-all">{snap.run.id}</code> is being verified: it turns <strong>stored</strong>{' '}
              once the server has checked every file.{' '}
              <a className="font-semibold underline" href={runHref(snap.run.id)}>
                Open the run
              </a>
            </p>
          </Alert>
        </div>
      )}
      {snap.notice && <Alert tone="info">{snap.notice}</Alert>}
      <Problems snap={snap} session={session} />
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <p ref={statusRef} tabIndex={-1} className="min-w-0 text-sm text-slate-800 outline-none" data-testid="upload-status">
          <StatusText snap={snap} />
        </p>
        <Actions snap={snap} session={session} onUploadMore={onUploadMore} onClear={onClear} />
      </div>
      {showProgress && (
        <ProgressBar value={overall.fraction} label="Overall upload progress" tone={phase === 'failed' ? 'red' : 'teal'} />
      )}
    </section>
  )
}

function UploadError({ error, onDismiss, resultRef }: { error: ErrorView; onDismiss: () => void; resultRef: Ref<HTMLDivElement> }) {
  return (
    <div ref={resultRef} tabIndex={-1} className="outline-none">
      <Alert tone="error" title={error.title} onDismiss={onDismiss}>
        <p data-testid="upload-error">{error.message}</p>
        {error.details.length > 0 && (
          <ul className="list-disc pl-5">
            {error.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        )}
      </Alert>
    </div>
  )
}

/** What keeps the chosen files from going: the run's limits, then the files refused one by one
 *  (each is also marked in the list; the first is named here, in view). */
function Problems({ snap, session }: { snap: Snapshot; session: SessionView }) {
  const refused = snap.entries.filter((e) => e.problem)
  const [first] = refused
  if (snap.problems.length === 0 && !first) return null
  return (
    <div role="alert" className="space-y-1 text-sm text-red-800" data-testid="upload-problems">
      {snap.problems.map((problem) => (
        <p key={problem}>{problem}</p>
      ))}
      {first && (
        <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <p>
            <bdi className="font-medium">{displayText(first.name)}</bdi>: {first.problem}
            {refused.length > 1 && ` (and ${refused.length - 1} more ${refused.length === 2 ? 'file' : 'files'} refused, marked in the list)`}
          </p>
          <Button size="xs" variant="danger" onClick={() => session.removeRefused()}>
            Remove {refused.length === 1 ? '1 refused file' : `${refused.length} refused files`}
          </Button>
        </div>
      )}
    </div>
  )
}

/** The rate of a phase in words: never a stale speed while nothing moves. */
function rate(progress: { speed: number | null; eta: number | null }): string {
  return rateText(progress.speed || null, progress.eta)
}

function StatusText({ snap }: { snap: Snapshot }) {
  const { phase, overall, hashing, entries } = snap
  const percentText = <span data-testid="overall-percent">{percent(overall.fraction)}%</span>
  switch (phase) {
    case 'idle': {
      if (entries.length === 0) return <>No files chosen yet.</>
      const chosen = `${fileCount(entries.length)} · ${formatBytes(entries.reduce((n, e) => n + e.size, 0))}`
      // No checksum is computed while the files cannot go as one run (too many of them).
      const checking = hashing.total > 0 && hashing.done < hashing.total && snap.problems.length === 0
      return (
        <>
          <strong className="font-semibold">{chosen}</strong>
          {checking && ` · checksums ${percent(hashing.fraction)}%, ${rate(hashing)}`}
        </>
      )
    }
    case 'hashing':
      return (
        <>
          Computing checksums… {percent(hashing.fraction)}% of {formatBytes(hashing.total)} · {rate(hashing)}
        </>
      )
    case 'creating':
      return <>Creating the run…</>
    case 'uploading':
      return (
        <>
          <strong className="font-semibold">
            {percentText} · {formatBytes(overall.done)} of {formatBytes(overall.total)}
          </strong>{' '}
          ·{' '}
          {!snap.online
            ? 'Offline: the upload waits and continues when the connection is back.'
            : snap.paused
              ? 'Paused.'
              : overall.stalled
                ? 'Stalled: waiting for network…'
                : rate(overall)}
        </>
      )
    case 'failed': {
      const failed = entries.filter((e) => e.status === 'failed').length
      return (
        <>
          <strong className="font-semibold">{percentText}</strong> sent · {failed > 0 ? `${fileCount(failed)} failed.` : 'The upload stopped.'}
        </>
      )
    }
    case 'done':
      return (
        <>
          <strong className="font-semibold">{percentText}</strong> · {fileCount(entries.length)} · {formatBytes(overall.total)} uploaded.
        </>
      )
    case 'cancelling':
      return <>Cancelling…</>
    case 'cancelled':
      return <>Cancelled.</>
  }
}

/** The buttons of each phase: upload, pause, retry, cancel, start over. */
function Actions({
  snap,
  session,
  onUploadMore,
  onClear,
}: {
  snap: Snapshot
  session: SessionView
  onUploadMore: () => void
  onClear: () => void
}) {
  const { phase, entries } = snap
  const blocked = snap.problems.length > 0 || snap.offer !== null || entries.some((e) => e.problem)
  const failed = entries.filter((e) => e.status === 'failed')
  // a changed file fails again however often it is retried: only choosing it again helps
  const retryable = failed.length === 0 || failed.some((e) => !e.changed)
  return (
    <div className="flex flex-wrap items-center gap-2">
      {snap.run && phase !== 'done' && (
        <a className="text-sm text-slate-600 underline" href={runHref(snap.run.id)}>
          Run <span className="font-mono">{snap.run.id.slice(0, 8)}</span>
        </a>
      )}
      {phase === 'idle' && (
        <>
          {entries.length > 0 && <Button onClick={onClear}>Clear</Button>}
          <Button type="submit" variant="primary" disabled={entries.length === 0 || blocked}>
            {entries.length === 0 ? 'Upload files' : `Upload ${fileCount(entries.length)}`}
          </Button>
        </>
      )}
      {phase === 'uploading' &&
        (snap.paused ? (
          <Button onClick={() => session.resumeAll()}>Resume all</Button>
        ) : (
          <Button onClick={() => session.pauseAll()}>Pause all</Button>
        ))}
      {phase === 'failed' && retryable && (
        <Button variant="primary" onClick={() => void session.retry()}>
          Retry failed files
        </Button>
      )}
      {(phase === 'hashing' || phase === 'creating' || phase === 'uploading' || phase === 'failed') && (
        <Button variant="danger" onClick={() => void session.cancel()}>
          Cancel upload
        </Button>
      )}
      {phase === 'cancelling' && (
        <Button variant="danger" disabled>
          Cancelling…
        </Button>
      )}
      {(phase === 'done' || phase === 'cancelled') && (
        <Button variant="primary" onClick={onUploadMore}>
          Upload more files
        </Button>
      )}
    </div>
  )
}
