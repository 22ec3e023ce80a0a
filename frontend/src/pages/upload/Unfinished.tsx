import { Button } from '../../components/Button'
import { DropZone } from '../../components/DropZone'
import { displayText, fileCount, formatBytes, formatDateTime, shortId } from '../../lib/format'
import type { Chosen, ResumeOffer, UnfinishedRun } from '../../upload/snapshot'

/** "1a2b3c4d “nightly” (app_bundle)": a run as people recognise it. */
function RunName({ run }: { run: Pick<UnfinishedRun, 'runId' | 'label' | 'type'> }) {
  return (
    <>
      <span className="font-mono">{shortId(run.runId)}</span>
      {run.label && (
        <>
          {' '}
          “<bdi>{displayText(run.label)}</bdi>”
        </>
      )}{' '}
      ({run.type})
    </>
  )
}

/**
 * The runs this browser started and did not finish (a reload, a closed tab), each with what is
 * left, a target to choose or drop its files again (only what the bucket lacks is sent) and a
 * cancel. Both stay offered whatever happens to the other.
 */
export function UnfinishedUploads({
  runs,
  disabled,
  onResume,
  onDiscard,
}: {
  runs: UnfinishedRun[]
  /** Another upload is under way: nothing can be resumed or cancelled meanwhile. */
  disabled: boolean
  onResume: (runId: string, files: Chosen[]) => void
  onDiscard: (runId: string) => void
}) {
  return (
    <section aria-labelledby="unfinished-heading" className="space-y-3 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950">
      <div className="space-y-1">
        <h2 id="unfinished-heading" className="font-semibold">
          Unfinished uploads
        </h2>
        <p>
          Choose or drop the same files again to finish a run: parts already in the bucket are not sent again. Or cancel the
          run, which removes what it uploaded.
        </p>
      </div>
      <ul className="space-y-2">
        {runs.map((run) => (
          <UnfinishedItem key={run.runId} run={run} disabled={disabled} onResume={onResume} onDiscard={onDiscard} />
        ))}
      </ul>
    </section>
  )
}

function UnfinishedItem({
  run,
  disabled,
  onResume,
  onDiscard,
}: {
  run: UnfinishedRun
  disabled: boolean
  onResume: (runId: string, files: Chosen[]) => void
  onDiscard: (runId: string) => void
}) {
  const left = run.remaining.reduce((n, f) => n + f.size, 0)
  const names = run.remaining.slice(0, 3).map((f) => displayText(f.name))
  const more = run.remaining.length - names.length
  const short = shortId(run.runId)
  return (
    <li className="space-y-2 rounded-lg bg-white p-3 text-slate-800 ring-1 ring-amber-200" data-testid="unfinished-run" data-run-id={run.runId}>
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <p className="font-medium">
          Run <RunName run={run} />
        </p>
        <p className="text-slate-600">last active {formatDateTime(run.savedAt)}</p>
      </div>
      <p className="break-words text-slate-600">
        Still to send: {run.remaining.length} of {fileCount(run.files.length)} ({formatBytes(left)}): <bdi>{names.join(', ')}</bdi>
        {more > 0 && ` and ${more} more`}
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <div className="min-w-0 flex-1">
          <DropZone
            compact
            disabled={disabled}
            onFiles={(chosen) => onResume(run.runId, chosen)}
            title="Drop its files here to resume it"
            buttonLabel={
              <>
                Resume: choose its files <span className="sr-only">(run {short})</span>
              </>
            }
            folders={run.remaining.some((f) => f.name.includes('/'))}
            testId="resume-file-input"
          />
        </div>
        <Button variant="danger" size="sm" disabled={disabled} onClick={() => onDiscard(run.runId)}>
          Cancel run <span className="sr-only">{short}</span>
        </Button>
      </div>
    </li>
  )
}

/** The files just chosen are what an unfinished run still waits for: resume it, or make a new run. */
export function ResumeOfferPrompt({
  offer,
  run,
  onAccept,
  onDecline,
}: {
  offer: ResumeOffer
  run: UnfinishedRun | undefined
  onAccept: () => void
  onDecline: () => void
}) {
  return (
    <div role="status" className="space-y-3 rounded-xl border border-sky-300 bg-sky-50 p-4 text-sm text-sky-950" data-testid="resume-offer">
      <p>
        <strong className="font-semibold">
          {offer.matched === 1 ? 'This file is' : `These ${offer.matched} files are`} the rest of run{' '}
          {run ? <RunName run={run} /> : <span className="font-mono">{shortId(offer.runId)}</span>}.
        </strong>{' '}
        Resume it to send only what the bucket does not hold yet, or upload {offer.matched === 1 ? 'it' : 'them'} as a new run.
      </p>
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" size="sm" onClick={onAccept}>
          Resume it
        </Button>
        <Button size="sm" onClick={onDecline}>
          Upload as a new run
        </Button>
      </div>
    </div>
  )
}
