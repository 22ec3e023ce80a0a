import { type QueryClient, useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState } from 'react'
import { Button, buttonClass } from '../../components/Button'
import { errorMessage, hasCode } from '../../lib/api'
import { useApp } from '../../lib/context'
import { displayText, shortId } from '../../lib/format'
import type { RunDetail, RunOut, RunPage } from '../../lib/types'

export const CONFIRM_TEXT = 'Cancel this run? Its partial uploads are removed from the bucket.'

/** What a refused cancel means for the person who asked. */
function cancelErrorText(error: unknown): string {
  if (hasCode(error, 'run_not_pending')) return 'Not cancelled: the run is no longer pending. Its status is up to date now.'
  if (hasCode(error, 'not_found')) return 'Not cancelled: there is no such run any more.'
  return `Not cancelled. ${errorMessage(error)}`
}

/** Every cached view of the run shows it cancelled at once; the refetch then brings its files. */
function showCancelled(queryClient: QueryClient, run: RunOut): void {
  queryClient.setQueryData<RunDetail>(['run', run.id], (old) => old && { ...old, ...run })
  queryClient.setQueriesData<RunPage>({ queryKey: ['runs'] }, (page) =>
    page && { ...page, items: page.items.map((item) => (item.id === run.id ? run : item)) },
  )
}

/**
 * "Cancel run" for a pending run, with a confirm step (DELETE /v1/uploads/{run}: the server
 * aborts its multipart uploads). `layout`: the run page's button, or the runs list's small
 * "Cancel" in a card (its confirm step below it) or in a table row (its confirm step pops over
 * the rows below, so the table keeps its columns). After the answer, focus moves to what it
 * says: the button and the confirm step are gone once the run is not pending.
 */
export function CancelRun({ run, layout = 'page' }: { run: RunOut; layout?: 'page' | 'card' | 'row' }) {
  const { api } = useApp()
  const queryClient = useQueryClient()
  const [confirming, setConfirming] = useState(false)
  const trigger = useRef<HTMLButtonElement>(null)
  const outcome = useRef<HTMLParagraphElement>(null)
  const panelId = useId()
  const textId = useId()
  const cancel = useMutation({
    mutationFn: () => api.cancelRun(run.id),
    onSuccess: (cancelled) => showCancelled(queryClient, cancelled),
    onSettled: () => {
      setConfirming(false)
      // Also after a refusal: the run changed since the page showed it (stored, cancelled, gone).
      void queryClient.invalidateQueries({ queryKey: ['runs'] })
      void queryClient.invalidateQueries({ queryKey: ['run', run.id] })
    },
  })
  const settled = cancel.isSuccess || cancel.isError
  useEffect(() => {
    if (settled) outcome.current?.focus()
  }, [settled])

  const keep = () => {
    setConfirming(false)
    trigger.current?.focus()
  }
  const compact = layout !== 'page'
  const name = run.label ? displayText(run.label) : shortId(run.id)
  if (run.status !== 'pending' && !settled) return null

  return (
    <div className={`${layout === 'row' ? 'relative' : ''} ${compact ? 'space-y-2' : 'space-y-3'}`}>
      {run.status === 'pending' && (
        <button
          ref={trigger}
          type="button"
          className={buttonClass('danger', compact ? 'xs' : 'sm')}
          aria-label={compact ? `Cancel run ${name}` : undefined}
          aria-expanded={confirming}
          aria-controls={confirming ? panelId : undefined}
          disabled={cancel.isPending}
          onClick={() => setConfirming((open) => !open)}
        >
          {compact ? 'Cancel' : 'Cancel run'}
        </button>
      )}
      {confirming && run.status === 'pending' && (
        <div
          id={panelId}
          role="group"
          aria-labelledby={textId}
          className={`space-y-2 rounded-lg border border-red-200 bg-red-50 p-3 text-left whitespace-normal ${
            layout === 'row' ? 'absolute top-full right-0 z-10 w-64 shadow-lg' : 'max-w-md'
          }`}
          onKeyDown={(e) => {
            if (e.key === 'Escape') keep()
          }}
        >
          <p id={textId} className="text-sm text-red-900">
            {CONFIRM_TEXT}
          </p>
          <div className="flex flex-wrap gap-2">
            <Button variant="danger" size="xs" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
              {cancel.isPending ? 'Cancelling…' : 'Confirm'}
            </Button>
            {/* The safe choice has the focus: Enter twice keeps the run. */}
            <Button size="xs" autoFocus disabled={cancel.isPending} onClick={keep}>
              Keep
            </Button>
          </div>
        </div>
      )}
      {cancel.isSuccess && (
        <p ref={outcome} tabIndex={-1} role="status" className="text-sm text-slate-700 outline-none">
          {compact ? 'Run cancelled.' : 'Run cancelled. Its partial uploads were removed from the bucket.'}
        </p>
      )}
      {cancel.isError && (
        <p
          ref={outcome}
          tabIndex={-1}
          role="alert"
          className={`${compact ? 'w-48' : 'max-w-md'} text-left text-sm whitespace-normal text-red-700 outline-none`}
        >
          <bdi>{displayText(cancelErrorText(cancel.error))}</bdi>
        </p>
      )}
    </div>
  )
}
