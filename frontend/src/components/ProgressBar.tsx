import { percent } from '../upload/progress'

export function ProgressBar({
  value,
  label,
  tone = 'teal',
  size = 'md',
}: {
  /** 0..1 */
  value: number
  label: string
  tone?: 'teal' | 'sky' | 'red' | 'slate'
  size?: 'sm' | 'md'
}) {
  const pct = percent(value)
  const colors = { teal: 'bg-teal-600', sky: 'bg-sky-500', red: 'bg-red-500', slate: 'bg-slate-400' }
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      aria-valuetext={`${pct}%`}
      className={`w-full overflow-hidden rounded-full bg-slate-200 ${size === 'sm' ? 'h-1.5' : 'h-2.5'}`}
    >
      <div className={`h-full rounded-full transition-[width] duration-200 ${colors[tone]}`} style={{ width: `${pct}%` }} />
    </div>
  )
}
