import { useState } from 'react'
import { Button } from '../../components/Button'
import { DropZone } from '../../components/DropZone'
import { formatBytes } from '../../lib/format'
import { type ResumeRecord, remainingFiles } from '../../upload/resume'
import type { UploadSession } from '../../upload/session'

/** After a reload: the interrupted upload, to resume with the same files or to discard. */
export function ResumeBanner({ session, record }: { session: UploadSession; record: ResumeRecord }) {
  const left = remainingFiles(record)
  const [choosing, setChoosing] = useState(false)
  return (
    <section
      aria-labelledby="resume-heading"
      className="space-y-3 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950"
    >
      <h2 id="resume-heading" className="font-semibold">
        An upload was interrupted
      </h2>
      <p>
        Run <code className="font-mono">{record.runId}</code> ({record.type}
        {record.label ? `, “${record.label}”` : ''}) still waits for{' '}
        {left.map((f, i) => (
          <span key={f.fileId}>
            {i > 0 && ', '}
            <strong>{f.name}</strong> ({formatBytes(f.size)})
          </span>
        ))}
        . Choose the same {left.length === 1 ? 'file' : 'files'} again to continue where the upload stopped; parts already
        in the bucket are not sent again.
      </p>
      {choosing ? (
        <DropZone
          onFiles={(files) => void session.resumeWith(files)}
          title="Drop the same files here to resume"
          buttonLabel="Choose files to resume"
          testId="resume-file-input"
        />
      ) : (
        <div className="flex flex-wrap gap-3">
          <Button variant="primary" onClick={() => setChoosing(true)}>
            Resume upload
          </Button>
          <Button variant="danger" onClick={() => void session.discardResume()}>
            Discard and cancel the run
          </Button>
        </div>
      )}
    </section>
  )
}
