// Hash routing: the page is one index.html in a bucket, which cannot answer /runs/<id> with it.
import { useEffect, useState } from 'react'

/**
 * What the runs list shows, all of it in the URL so a reload or Back/Forward finds the same
 * page: the filters, and the cursors of the pages before this one (keyset pages: going Newer
 * needs the cursor of the page before, which no API call can give back).
 */
export interface RunsView {
  status: string
  type: string
  /** The label search as typed (the page sends it only when the API accepts it). */
  q: string
  /** The cursor of each older page opened, oldest last; empty on the newest page. */
  after: string[]
}

export type Route =
  | { name: 'upload' }
  | ({ name: 'runs' } & RunsView)
  | { name: 'run'; id: string }
  | { name: 'missing'; path: string }

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/'
  const mark = raw.indexOf('?')
  const path = mark < 0 ? raw : raw.slice(0, mark)
  const params = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1))
  const parts = path.split('/').filter(Boolean)
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'upload')) return { name: 'upload' }
  if (parts[0] === 'runs' && parts.length === 1) {
    return {
      name: 'runs',
      status: params.get('status') ?? '',
      type: params.get('type') ?? '',
      q: params.get('q') ?? '',
      after: params.getAll('after').filter(Boolean),
    }
  }
  if (parts[0] === 'runs' && parts.length === 2) return { name: 'run', id: decodeURIComponent(parts[1]) }
  return { name: 'missing', path }
}

/** The runs list showing `view`; one `after` per older page (cursors are opaque: never joined). */
export function runsHref(view: Partial<RunsView> = {}): string {
  const params = new URLSearchParams()
  if (view.status) params.set('status', view.status)
  if (view.type) params.set('type', view.type)
  if (view.q) params.set('q', view.q)
  for (const cursor of view.after ?? []) params.append('after', cursor)
  const qs = params.toString()
  return `#/runs${qs ? `?${qs}` : ''}`
}

export function runHref(id: string): string {
  return `#/runs/${encodeURIComponent(id)}`
}

/**
 * Which page a route shows, whatever its filters and cursor: the app moves focus to the page's
 * title when this changes, and must not when a search or a filter changes under the cursor.
 */
export function pageKey(route: Route): string {
  if (route.name === 'run') return `run:${route.id}`
  if (route.name === 'missing') return `missing:${route.path}`
  return route.name
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

/** Goes to `href`; `replace` changes the current history entry instead of adding one (a search
 *  being refined is one entry, not one per pause in the typing). */
export function navigate(href: string, { replace = false }: { replace?: boolean } = {}): void {
  const hash = `#${href.replace(/^#/, '')}`
  if (hash === window.location.hash) return
  if (replace) window.location.replace(hash)
  else window.location.hash = hash
}
