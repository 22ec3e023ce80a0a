import { Button } from '../../components/Button'
import { runHref } from '../../lib/router'
import type { Snapshot, UploadSession } from '../../upload/session'

const PHASE_TEXT: Partial<Record<Snapshot['phase'], string>> = {
  hashing: 'Computing checksums…',
  creating: 'Creating the run…',
  uploading: 'Uploading to the bucket…',
  cancelling: 'Cancelling…',
}

/** The buttons of each phase: upload, retry, cancel, start over. */
export function UploadActions({ snap, session }: { snap: Snapshot; session: UploadSession }) {
  const count = snap.entries.length
  const phase = snap.phase
  return (
    <div className="flex flex-wrap items-center gap-3">
      {(phase === 'idle' || phase === 'hashing' || phase === 'creating') && (
        <Button type="submit" variant="primary" disabled={count === 0 || phase !== 'idle'}>
          {phase !== 'idle' ? PHASE_TEXT[phase] : count === 0 ? 'Upload files' : `Upload ${count === 1 ? '1 file' : `${count} files`}`}
        </Button>
      )}
      {phase === 'failed' && (
        <Button variant="primary" onClick={() => void session.retry()}>
          Retry failed files
        </Button>
      )}
      {(phase === 'hashing' || phase === 'creating' || phase === 'uploading' || phase === 'failed' || phase === 'cancelling') && (
        <Button variant="danger" disabled={phase === 'cancelling'} onClick={() => void session.cancel()}>
          {phase === 'cancelling' ? 'Cancelling…' : 'Cancel upload'}
        </Button>
      )}
      {(phase === 'done' || phase === 'cancelled') && <Button onClick={() => session.reset()}>Upload more files</Button>}
      {phase === 'idle' && count > 0 && <Button onClick={() => session.reset()}>Clear</Button>}
      {snap.run && phase !== 'done' && phase !== 'cancelled' && (
        <span className="text-sm text-slate-600">
          Run{' '}
          <a className="font-mono underline" href={runHref(snap.run.id)}>
            {snap.run.id.slice(0, 8)}
          </a>
        </span>
      )}
    </div>
  )
}
