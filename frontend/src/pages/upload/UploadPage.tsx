import { type FormEvent, useEffect, useRef, useState } from 'react'
import { DropZone } from '../../components/DropZone'
import { useApp } from '../../lib/context'
import type { Chosen, RunForm, SessionView } from '../../upload/snapshot'
import { PageHeader } from '../PageHeader'
import { FileList } from './FileList'
import { RunFields } from './RunFields'
import { SummaryBar } from './SummaryBar'
import { ResumeOfferPrompt, UnfinishedUploads } from './Unfinished'
import { useSession } from './useSession'
import { WindowDrop } from './WindowDrop'

export function UploadPage({ session }: { session: SessionView }) {
  const { config } = useApp()
  const snap = useSession(session)
  const blank: RunForm = { type: config.defaultRunType, label: '', notes: '' }
  const [form, setForm] = useState<RunForm>(blank)
  const locked = snap.phase !== 'idle'
  const busy = session.busy
  // Once the run exists (or is resumed after a reload), show what it was created with.
  const shown: RunForm = locked && snap.run ? { type: snap.run.type, label: snap.run.label ?? '', notes: snap.run.notes ?? '' } : form
  const types = config.runTypes.includes(shown.type) ? config.runTypes : [...config.runTypes, shown.type]

  const status = useRef<HTMLParagraphElement>(null)
  const result = useRef<HTMLDivElement>(null)
  const picker = useRef<HTMLInputElement>(null)
  const focusPicker = useRef(false)
  const wasBusy = useRef(busy)

  // Runs this browser left unfinished may have been finished or cancelled elsewhere since.
  useEffect(() => {
    void session.refreshUnfinished()
  }, [session])

  // Leaving mid-upload pauses it (it can be resumed), but say so before it happens.
  useEffect(() => {
    if (!busy) return
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault()
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [busy])

  // When the upload ends, its result takes the focus (the button pressed is gone by then).
  useEffect(() => {
    if (wasBusy.current && !busy) (result.current ?? status.current)?.focus()
    wasBusy.current = busy
  }, [busy])

  // After starting over, the file picker (back on the page only now) takes the focus.
  useEffect(() => {
    if (focusPicker.current && picker.current) {
      focusPicker.current = false
      picker.current.focus()
    }
  })

  /** The buttons that start work vanish or get disabled: the focus follows the progress. */
  const followProgress = () => status.current?.focus()
  const startOver = (keepForm: boolean) => {
    session.reset()
    // The next run must not silently take the last one's type, label and notes.
    if (!keepForm) setForm(blank)
    focusPicker.current = true
  }
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    followProgress()
    void session.start(form)
  }
  const addFiles = (files: Chosen[]) => session.addFiles(files)
  // Files dropped or pasted once an upload has ended start the next one.
  const ended = snap.phase === 'done' || snap.phase === 'cancelled'
  const addAnywhere = (files: Chosen[]) => {
    if (ended) startOver(false)
    addFiles(files)
  }

  return (
    <div className="space-y-5">
      <PageHeader
        title="Upload files"
        subtitle="Files go straight from your browser to the bucket, checksummed (SHA-256) on the way; the server verifies each one."
      />
      <WindowDrop onFiles={addAnywhere} disabled={locked && !ended} />

      {snap.unfinished.length > 0 && (
        <UnfinishedUploads
          runs={snap.unfinished}
          disabled={busy}
          onResume={(runId, files) => {
            followProgress()
            void session.resumeWith(runId, files)
          }}
          onDiscard={(runId) => void session.discard(runId)}
        />
      )}

      <form onSubmit={onSubmit} className="space-y-5" aria-label="New upload" noValidate>
        {!locked && <DropZone onFiles={addFiles} folders inputRef={picker} />}
        {snap.offer && (
          <ResumeOfferPrompt
            offer={snap.offer}
            run={snap.unfinished.find((run) => run.runId === snap.offer?.runId)}
            onAccept={() => {
              followProgress()
              void session.acceptOffer()
            }}
            onDecline={() => session.declineOffer()}
          />
        )}
        {snap.entries.length > 0 && (
          <FileList
            entries={snap.entries}
            session={session}
            locked={locked}
            hashedWhileUploadingAbove={snap.rules?.multipart_threshold ?? null}
          />
        )}
        <RunFields value={shown} types={types} disabled={locked} onChange={(change) => setForm((f) => ({ ...f, ...change }))} />
        <SummaryBar
          snap={snap}
          session={session}
          statusRef={status}
          resultRef={result}
          onUploadMore={() => startOver(false)}
          onClear={() => startOver(true)}
        />
      </form>
    </div>
  )
}
