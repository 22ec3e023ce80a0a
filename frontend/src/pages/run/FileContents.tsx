import { useInfiniteQuery } from '@tanstack/react-query'
import { useEffect, useMemo } from 'react'
import { Alert } from '../../components/Alert'
import { Button } from '../../components/Button'
import { Spinner } from '../../components/Spinner'
import { errorMessage, hasCode } from '../../lib/api'
import { useApp } from '../../lib/context'
import { displayText, formatBytes, formatDateTime } from '../../lib/format'
import type { FileOut, Manifest } from '../../lib/types'
import { buildTree } from './manifest'
import { ManifestTree } from './ManifestTree'

/** Entries per request: the API's most. */
export const MANIFEST_PAGE = 1000
/** Pages are fetched one after another by themselves up to this many entries; then on request. */
export const AUTO_LOAD_ENTRIES = 10_000

/**
 * What a stored archive holds (GET .../manifest), as the manifest processor recorded it after the
 * run was stored: refreshing while it is `pending`, the processor's error when it `failed`, the
 * counts and a tree of folders and files when `done`. The file's own status never depends on it.
 */
export function FileContents({ file, refreshMs }: { file: FileOut; refreshMs: number }) {
  const { api } = useApp()
  const name = displayText(file.name)
  const query = useInfiniteQuery({
    queryKey: ['manifest', file.run_id, file.id],
    queryFn: ({ pageParam, signal }) =>
      api.getManifest(file.run_id, file.id, { limit: MANIFEST_PAGE, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    // A pending or failed manifest has no entries to page through.
    getNextPageParam: (last: Manifest) => (last.status === 'done' && last.next_cursor) || undefined,
    refetchInterval: (q) => (q.state.data?.pages[0]?.status === 'pending' ? refreshMs : false),
    // A finished manifest does not change: refetching its pages on focus would only cost.
    staleTime: (q) => (q.state.data && q.state.data.pages[0]?.status !== 'pending' ? Infinity : 0),
  })
  const pages = query.data?.pages
  const entries = useMemo(() => pages?.flatMap((page) => page.entries) ?? [], [pages])
  const tree = useMemo(() => buildTree(entries), [entries])
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = query
  const autoLoad = hasNextPage && !isFetchingNextPage && !isFetchNextPageError && entries.length < AUTO_LOAD_ENTRIES
  const loadedPages = pages?.length ?? 0
  // Again after each page (`loadedPages`): the fetching state between two pages may never render.
  useEffect(() => {
    if (autoLoad) void fetchNextPage()
  }, [autoLoad, loadedPages, fetchNextPage])

  const manifest = pages?.[0]
  return (
    <section aria-label={`Contents of ${name}`} className="space-y-2 rounded-lg border border-slate-200 bg-slate-50/60 p-3" data-testid="file-contents">
      <h3 className="text-sm font-semibold text-slate-900">Contents</h3>
      {query.isPending ? (
        <Spinner label="Loading the contents…" />
      ) : !manifest ? (
        // Only a first page that failed: a failed later page (or refresh) keeps what was loaded.
        hasCode(query.error, 'no_manifest') ? (
          <p className="text-xs text-slate-500">Inlet does not list the contents of this file: it was not read as an archive.</p>
        ) : (
          <Alert tone="error" title="Could not load the contents">
            <p>{displayText(errorMessage(query.error))}</p>
          </Alert>
        )
      ) : manifest.status === 'pending' ? (
        <p role="status" className="flex items-center gap-2 text-sm text-slate-600" data-testid="manifest-pending">
          <span aria-hidden="true" className="h-3 w-3 animate-pulse rounded-full bg-amber-400" />
          Listing the archive's entries… (refreshing until it is done)
        </p>
      ) : manifest.status === 'failed' ? (
        <Alert tone="error" title="The archive could not be listed">
          <p data-testid="manifest-error">
            {manifest.error ? (
              <>
                <strong>{manifest.error.code}</strong>: <bdi>{displayText(manifest.error.message)}</bdi>
              </>
            ) : (
              'The processor gave no reason.'
            )}
          </p>
          <p>The file itself is stored and verified; only its listing failed.</p>
        </Alert>
      ) : (
        <>
          <Counts manifest={manifest} loaded={entries.length} />
          {entries.length > 0 ? (
            <ManifestTree root={tree} label={`Entries of ${name}`} />
          ) : (
            <p className="text-xs text-slate-500">The archive is empty.</p>
          )}
          {isFetchingNextPage || autoLoad ? (
            <Spinner label="Loading more entries…" />
          ) : isFetchNextPageError ? (
            <Alert tone="error" title="Could not load more entries">
              <p>{displayText(errorMessage(query.error))}</p>
              <Button size="xs" onClick={() => void fetchNextPage()}>
                Try again
              </Button>
            </Alert>
          ) : (
            hasNextPage && (
              <Button size="xs" onClick={() => void fetchNextPage()}>
                Load more entries
              </Button>
            )
          )}
        </>
      )}
    </section>
  )
}

function Counts({ manifest, loaded }: { manifest: Manifest; loaded: number }) {
  const total = manifest.entry_count ?? loaded
  return (
    <p className="text-xs text-slate-600" data-testid="manifest-counts">
      {plural(total, 'entry', 'entries')}: {plural(manifest.file_count ?? 0, 'file', 'files')},{' '}
      {plural(manifest.dir_count ?? 0, 'folder', 'folders')}, {formatBytes(manifest.total_bytes ?? 0)} unpacked · {manifest.format}
      {manifest.processed_at && <> · listed {formatDateTime(manifest.processed_at)}</>}
      {loaded < total && <> · showing the first {loaded.toLocaleString()}</>}
    </p>
  )
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`
}
