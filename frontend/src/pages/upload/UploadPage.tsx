import { type FormEvent, useEffect, useState } from 'react'
import { Alert } from '../../components/Alert'
import { DropZone } from '../../components/DropZone'
import { StatusBadge } from '../../components/StatusBadge'
import { useApp } from '../../lib/context'
import { runHref } from '../../lib/router'
import type { ErrorView, RunForm, UploadSession } from '../../upload/session'
import { PageHeader } from '../PageHeader'
import { FileList } from './FileList'
import { HashingProgress, OverallProgress } from './Progress'
import { ResumeBanner } from './ResumeBanner'
import { RunFields } from './RunFields'
import { UploadActions } from './UploadActions'
import { useSession } from './useSession'

export function UploadPage({ session }: { session: UploadSession }) {
  const { config } = useApp()
  const snap = useSession(session)
  const [form, setForm] = useState<RunForm>({ type: config.defaultRunType, label: '', notes: '' })
  const locked = snap.phase !== 'idle'
  const busy = session.busy
  // Once the run exists (or is resumed after a reload), show what it was created with.
  const shown: RunForm = locked && snap.run ? { type: snap.run.type, label: snap.run.label ?? '', notes: snap.run.notes ?? '' } : form
  const types = config.runTypes.includes(shown.type) ? config.runTypes : [...config.runTypes, shown.type]
  const showProgress = snap.phase === 'uploading' || snap.phase === 'failed' || snap.phase === 'done' || snap.phase === 'cancelling'

  // Leaving mid-upload pauses it (it can be resumed), but say so before it happens.
  useEffect(() => {
    if (!busy) return
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault()
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [busy])

  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    void session.start(form)
  }

  return (
    <div className="space-y-6">
      <PageHeader
        title="Upload files"
        subtitle="Files go straight from your browser to the bucket. Each is checksummed (SHA-256) here, a large file while it uploads, and the server verifies it after the upload."
      />

      {snap.resume && snap.phase === 'idle' && <ResumeBanner session={session} record={snap.resume} />}
      {snap.error && <UploadError error={snap.error} onDismiss={() => session.dismissError()} />}
      {snap.notice && <Alert tone="info">{snap.notice}</Alert>}

      <form onSubmit={onSubmit} className="space-y-6" aria-label="New upload" noValidate>
        <RunFields value={shown} types={types} disabled={locked} onChange={(change) => setForm((f) => ({ ...f, ...change }))} />
        {!locked && <DropZone onFiles={(files) => session.addFiles(files)} />}
        {snap.entries.length > 0 && (
          <FileList entries={snap.entries} removable={snap.phase === 'idle'} onRemove={(id) => session.removeFile(id)} />
        )}
        {showProgress && <OverallProgress snap={snap} />}
        {snap.phase === 'hashing' && <HashingProgress hashing={snap.hashing} />}
        <UploadActions snap={snap} session={session} />
      </form>

      {snap.phase === 'done' && snap.run && (
        <Alert tone="success" title="All files are in the bucket">
          <p>
            Run <code className="font-mono">{snap.run.id}</code> is being verified: it turns{' '}
            <strong>stored</strong> once the server has checked every file.{' '}
            <a className="font-semibold underline" href={runHref(snap.run.id)}>
              Open the run
            </a>
          </p>
        </Alert>
      )}
      {snap.phase === 'cancelled' && snap.run && (
        <p className="text-sm text-slate-600">
          Run{' '}
          <a className="font-mono underline" href={runHref(snap.run.id)}>
            {snap.run.id}
          </a>{' '}
          is <StatusBadge status={snap.run.status} />
        </p>
      )}
    </div>
  )
}

function UploadError({ error, onDismiss }: { error: ErrorView; onDismiss: () => void }) {
  return (
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
  )
}
