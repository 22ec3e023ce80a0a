// Hash routing: the page is one index.html in a bucket, which cannot answer /runs/<id> with it.
import { useEffect, useState } from 'react'

export type Route =
  | { name: 'upload' }
  | { name: 'runs'; status: string; type: string }
  | { name: 'run'; id: string }
  | { name: 'missing'; path: string }

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/'
  const [path, query = ''] = raw.split('?')
  const params = new URLSearchParams(query)
  const parts = path.split('/').filter(Boolean)
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'upload')) return { name: 'upload' }
  if (parts[0] === 'runs' && parts.length === 1) {
    return { name: 'runs', status: params.get('status') ?? '', type: params.get('type') ?? '' }
  }
  if (parts[0] === 'runs' && parts.length === 2) return { name: 'run', id: decodeURIComponent(parts[1]) }
  return { name: 'missing', path }
}

export function runsHref(filters: { status?: string; type?: string } = {}): string {
  const params = new URLSearchParams()
  if (filters.status) params.set('status', filters.status)
  if (filters.type) params.set('type', filters.type)
  const qs = params.toString()
  return `#/runs${qs ? `?${qs}` : ''}`
}

export function runHref(id: string): string {
  return `#/runs/${encodeURIComponent(id)}`
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

export function navigate(href: string): void {
  window.location.hash = href.replace(/^#/, '')
}
