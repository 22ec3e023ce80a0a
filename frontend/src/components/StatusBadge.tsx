const STYLES: Record<string, string> = {
  pending: 'bg-amber-50 text-amber-800 ring-amber-600/30',
  stored: 'bg-emerald-50 text-emerald-800 ring-emerald-600/30',
  uploaded: 'bg-emerald-50 text-emerald-800 ring-emerald-600/30',
  failed: 'bg-red-50 text-red-800 ring-red-600/30',
  cancelled: 'bg-slate-100 text-slate-700 ring-slate-500/30',
  expired: 'bg-slate-100 text-slate-700 ring-slate-500/30',
  uploading: 'bg-sky-50 text-sky-800 ring-sky-600/30',
  queued: 'bg-slate-50 text-slate-700 ring-slate-400/30',
  selected: 'bg-slate-50 text-slate-700 ring-slate-400/30',
}

const ICONS: Record<string, string> = {
  pending: '◔',
  stored: '✓',
  uploaded: '✓',
  failed: '✕',
  cancelled: '⊘',
  expired: '○',
  uploading: '↑',
  queued: '…',
  selected: '•',
}

/** A status as text with a color and a symbol (never color alone). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset whitespace-nowrap ${
        STYLES[status] ?? STYLES.cancelled
      }`}
      data-status={status}
    >
      <span aria-hidden="true">{ICONS[status] ?? '•'}</span>
      {label ?? status}
    </span>
  )
}
