import { Button } from '../../components/Button'

/** Newer / Older through the API's cursor pages; a missing handler disables its button. */
export function Pager({ page, onNewer, onOlder }: { page: number; onNewer: (() => void) | null; onOlder: (() => void) | null }) {
  return (
    <nav className="flex items-center justify-between gap-3" aria-label="Pages of runs">
      <Button size="sm" disabled={!onNewer} onClick={() => onNewer?.()}>
        ← Newer
      </Button>
      <span className="text-sm text-slate-600">Page {page}</span>
      <Button size="sm" disabled={!onOlder} onClick={() => onOlder?.()}>
        Older →
      </Button>
    </nav>
  )
}
