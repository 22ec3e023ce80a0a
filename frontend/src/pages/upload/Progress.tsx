import { ProgressBar } from '../../components/ProgressBar'
import { formatBytes, rateText } from '../../lib/format'
import { percent } from '../../upload/progress'
import type { Snapshot } from '../../upload/session'

/** The upload as a whole: percent, bytes, speed and time left. */
export function OverallProgress({ snap }: { snap: Snapshot }) {
  const { overall } = snap
  const active = snap.phase === 'uploading'
  return (
    <section aria-label="Overall progress" className="space-y-2 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1 text-sm">
        <p className="font-medium text-slate-800">
          <span data-testid="overall-percent">{percent(overall.fraction)}%</span> ·{' '}
          {formatBytes(overall.done)} of {formatBytes(overall.total)}
        </p>
        {active && <p className="text-slate-600">{rateText(overall.speed, overall.eta)}</p>}
      </div>
      <ProgressBar value={overall.fraction} label="Overall upload progress" tone={snap.phase === 'failed' ? 'red' : 'teal'} />
    </section>
  )
}

/** The checksums computed before the run is created (files that go in one PUT). */
export function HashingProgress({ hashing }: { hashing: Snapshot['hashing'] }) {
  return (
    <div className="space-y-2" aria-live="polite">
      <p className="text-sm text-slate-700">
        Computing checksums… {percent(hashing.fraction)}% of {formatBytes(hashing.total)}
      </p>
      <ProgressBar value={hashing.fraction} label="Checksums computed" tone="sky" />
    </div>
  )
}
