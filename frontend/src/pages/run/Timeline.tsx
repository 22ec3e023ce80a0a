import { displayText, formatDateTime } from '../../lib/format'
import type { RunDetail } from '../../lib/types'
import { timeline } from './timeline'

const DOT = {
  done: 'bg-emerald-500 ring-emerald-100',
  bad: 'bg-red-500 ring-red-100',
  warning: 'bg-orange-400 ring-orange-100',
  waiting: 'bg-amber-400 ring-amber-100 animate-pulse',
  neutral: 'bg-slate-400 ring-slate-100',
}

export function Timeline({ run }: { run: RunDetail }) {
  return (
    <section aria-labelledby="timeline-heading" className="space-y-3">
      <h2 id="timeline-heading" className="text-lg font-semibold text-slate-900">
        Timeline
      </h2>
      <ol className="relative space-y-4 border-l-2 border-slate-200 pl-6">
        {timeline(run).map((event, i) => (
          <li key={i} className="relative" data-tone={event.tone}>
            <span aria-hidden="true" className={`absolute top-1 -left-[1.95rem] h-3 w-3 rounded-full ring-4 ${DOT[event.tone]}`} />
            {/* Titles and details quote file names, keys and messages: no controls, isolated. */}
            <p className="text-sm font-medium text-slate-900">
              <bdi>{displayText(event.title)}</bdi>
            </p>
            <p className="text-xs text-slate-500">
              {event.at ? <time dateTime={event.at}>{formatDateTime(event.at)}</time> : event.tone === 'waiting' ? 'now' : 'time not recorded'}
              {event.detail && (
                <>
                  {' · '}
                  <bdi>{displayText(event.detail)}</bdi>
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
    </section>
  )
}
