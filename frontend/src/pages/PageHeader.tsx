import type { ReactNode } from 'react'

/** The page title. The app moves focus to it when the route changes (see App). */
export function PageHeader({ title, subtitle, children }: { title: ReactNode; subtitle?: ReactNode; children?: ReactNode }) {
  return (
    <div className="flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0 space-y-1">
        <h1 tabIndex={-1} className="text-2xl font-semibold tracking-tight break-words text-slate-900 outline-none">
          {title}
        </h1>
        {subtitle && <p className="max-w-3xl text-sm text-slate-600">{subtitle}</p>}
      </div>
      {children}
    </div>
  )
}
