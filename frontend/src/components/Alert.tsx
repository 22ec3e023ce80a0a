import type { ReactNode } from 'react'

/** The colors of each tone (border, background, text). */
export const ALERT_TONES = {
  error: 'border-red-300 bg-red-50 text-red-900',
  info: 'border-sky-300 bg-sky-50 text-sky-900',
  success: 'border-emerald-300 bg-emerald-50 text-emerald-900',
  warning: 'border-amber-300 bg-amber-50 text-amber-900',
}

export function Alert({
  tone,
  title,
  children,
  onDismiss,
}: {
  tone: keyof typeof ALERT_TONES
  title?: string
  children?: ReactNode
  onDismiss?: () => void
}) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={`flex items-start gap-3 rounded-lg border px-4 py-3 text-sm ${ALERT_TONES[tone]}`}
    >
      <div className="min-w-0 flex-1 space-y-1">
        {title && <p className="font-semibold">{title}</p>}
        {children}
      </div>
      {onDismiss && (
        <button
          type="button"
          onClick={onDismiss}
          className="rounded p-1 leading-none opacity-70 hover:opacity-100 focus-visible:outline-2 focus-visible:outline-current"
          aria-label="Dismiss"
        >
          ✕
        </button>
      )}
    </div>
  )
}

export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error)
  return (
    <Alert tone="error" title={title}>
      <p>{message}</p>
    </Alert>
  )
}
