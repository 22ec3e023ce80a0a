import type { ReactNode } from 'react'
import { CopyButton } from '../../components/CopyButton'
import { displayText, formatBytes, formatDateTime } from '../../lib/format'
import type { RunDetail } from '../../lib/types'

export function RunSummary({ run }: { run: RunDetail }) {
  return (
    <section aria-labelledby="summary-heading" className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
      <h2 id="summary-heading" className="sr-only">
        Summary
      </h2>
      {/* Two columns from phone width up: the run id alone spans both there. */}
      <dl className="grid grid-cols-2 gap-x-4 gap-y-4 text-sm sm:gap-x-6 lg:grid-cols-3">
        <Item term="Run id" className="col-span-2 lg:col-span-1">
          <span className="flex items-center gap-2">
            <code className="font-mono text-xs break-all" data-testid="run-id">
              {run.id}
            </code>
            <CopyButton text={run.id} label="Copy run id" />
          </span>
        </Item>
        <Item term="Status">
          <span data-testid="run-status">{run.status}</span>
        </Item>
        <Item term="Type">{run.type}</Item>
        <Item term="Source">{run.source === 'api' ? 'uploaded (API)' : 'dropped into the bucket'}</Item>
        <Item term="Files">
          {run.file_count} · {formatBytes(run.total_bytes)}
        </Item>
        <Item term="Created">{formatDateTime(run.created_at)}</Item>
        <Item term="Updated">{formatDateTime(run.updated_at)}</Item>
        <Item term="Stored">{formatDateTime(run.stored_at)}</Item>
        {run.notes && (
          <div className="col-span-2 lg:col-span-3">
            <dt className="font-medium text-slate-500">Notes</dt>
            <dd className="mt-1 whitespace-pre-wrap text-slate-900">
              <bdi>{displayText(run.notes, { multiline: true })}</bdi>
            </dd>
          </div>
        )}
      </dl>
    </section>
  )
}

function Item({ term, className = '', children }: { term: string; className?: string; children: ReactNode }) {
  return (
    <div className={`min-w-0 ${className}`.trim()}>
      <dt className="font-medium text-slate-500">{term}</dt>
      <dd className="mt-1 text-slate-900">{children}</dd>
    </div>
  )
}
