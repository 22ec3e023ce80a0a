import { onlineManager, QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { ErrorAlert } from './components/Alert'
import { ConnectivityBanner } from './components/ConnectivityBanner'
import { Spinner } from './components/Spinner'
import { TokenField } from './components/TokenField'
import { ApiClient } from './lib/api'
import { type InletConfig, loadConfig } from './lib/config'
import { AppContext } from './lib/context'
import { type Network, network as pageNetwork, probeWhileUnreachable } from './lib/network'
import { retryQuery } from './lib/retry'
import { pageKey, type Route, useRoute } from './lib/router'
import { loadToken } from './lib/token'
import { RunDetailPage } from './pages/run/RunDetailPage'
import { RunsPage } from './pages/runs/RunsPage'
import { UploadPage } from './pages/upload/UploadPage'
import { documentTitle, uploadStatus } from './title'
import { WorkerHasher } from './upload/hasher'
import { ResumeStore } from './upload/resume'
import { UploadSession } from './upload/session'
import type { SessionView, Snapshot } from './upload/snapshot'

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // the page's one retry rule (lib/retry.ts): network failures, 408, 429 and 5xx
        retry: retryQuery,
        refetchOnWindowFocus: true,
        staleTime: 1000,
      },
      // The page's mutations only read (a download link): the same rule
      mutations: { retry: retryQuery },
    },
  })
}

/** Loads config.json, then renders the app. */
export function App() {
  const [state, setState] = useState<{ config?: InletConfig; error?: unknown }>({})
  useEffect(() => {
    loadConfig().then(
      (config) => setState({ config }),
      (error: unknown) => setState({ error }),
    )
  }, [])
  if (state.error) {
    return (
      <main className="mx-auto max-w-3xl p-6">
        <ErrorAlert error={state.error} title="Inlet could not start" />
      </main>
    )
  }
  if (!state.config) {
    return (
      <main className="mx-auto max-w-3xl p-6">
        <Spinner label="Starting Inlet…" />
      </main>
    )
  }
  return <Inlet config={state.config} />
}

export function Inlet({
  config,
  network = pageNetwork,
  api: givenApi,
  session: givenSession,
}: {
  config: InletConfig
  network?: Network
  api?: ApiClient
  session?: SessionView
}) {
  const api = useMemo(
    () => givenApi ?? new ApiClient(config.apiUrl, undefined, loadToken, network),
    [givenApi, config.apiUrl, network],
  )
  const [queryClient] = useState(makeQueryClient)
  useFollowNetwork(network, api, queryClient)
  // One upload session for the life of the page, so moving between pages never stops an upload.
  const [session] = useState<SessionView>(
    () => givenSession ?? new UploadSession({ api, hasher: new WorkerHasher(), store: new ResumeStore(), network }),
  )
  const route = useRoute()
  const context = useMemo(() => ({ config, api }), [config, api])
  return (
    <AppContext.Provider value={context}>
      <QueryClientProvider client={queryClient}>
        <Shell route={route} session={session} network={network} api={api} authRequired={config.authRequired === true} />
      </QueryClientProvider>
    </AppContext.Provider>
  )
}

/**
 * The queries follow the network: paused while the browser is offline (React Query's
 * onlineManager, which refetches when it is back), and refetched once the API answers again
 * after it did not, which a probe every few seconds finds out.
 */
function useFollowNetwork(network: Network, api: ApiClient, queryClient: QueryClient): void {
  useEffect(
    () =>
      onlineManager.setEventListener((setOnline) => {
        setOnline(network.online)
        return network.subscribe(() => setOnline(network.online))
      }),
    [network],
  )
  useEffect(() => probeWhileUnreachable(network, () => api.health()), [network, api])
  useEffect(() => {
    let last = network.getSnapshot()
    return network.subscribe(() => {
      const now = network.getSnapshot()
      if (last === 'unreachable' && now === 'online') void queryClient.invalidateQueries()
      last = now
    })
  }, [network, queryClient])
}

/** One value of the session's snapshot; re-renders only when that value changes. */
function useSessionValue<T>(session: SessionView, select: (snap: Snapshot) => T): T {
  const subscribe = useCallback((listener: () => void) => session.subscribe(listener), [session])
  const value = () => select(session.getSnapshot())
  return useSyncExternalStore(subscribe, value, value)
}

function Shell({
  route,
  session,
  network,
  api,
  authRequired,
}: {
  route: Route
  session: SessionView
  network: Network
  api: ApiClient
  authRequired: boolean
}) {
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  const page = pageKey(route)
  // Move focus to the new page's title so keyboard and screen reader users land on it (not when
  // only a filter or the search changed: the focus stays in the control being used).
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus()
  }, [page])
  const title = useSessionValue(session, (snap) => documentTitle(route, snap))
  useEffect(() => {
    document.title = title
  }, [title])

  return (
    <div className="min-h-screen">
      <a
        href="#main"
        onClick={(e) => {
          e.preventDefault()
          main.current?.querySelector<HTMLElement>('h1')?.focus()
        }}
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:shadow"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2 sm:gap-x-6 sm:px-6 sm:py-3">
          <a href="#/upload" className="flex items-center gap-2 text-lg font-bold tracking-tight text-slate-900">
            <svg aria-hidden="true" viewBox="0 0 32 32" className="h-7 w-7">
              <rect width="32" height="32" rx="7" fill="#0f766e" />
              <path d="M16 6v14m0 0-6-6m6 6 6-6M8 25h16" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
            Inlet
          </a>
          <nav aria-label="Main" className="flex gap-1">
            <NavLink href="#/upload" active={route.name === 'upload'}>
              Upload
            </NavLink>
            <NavLink href="#/runs" active={route.name === 'runs' || route.name === 'run'}>
              Runs
            </NavLink>
          </nav>
          {route.name !== 'upload' && <UploadIndicator session={session} />}
          <TokenField required={authRequired} />
        </div>
      </header>
      <ConnectivityBanner network={network} apiUrl={api.baseUrl} onRetry={() => api.health()} />
      <main id="main" ref={main} className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
        {route.name === 'upload' && <UploadPage session={session} />}
        {route.name === 'runs' && <RunsPage view={route} />}
        {route.name === 'run' && <RunDetailPage key={route.id} id={route.id} />}
        {route.name === 'missing' && (
          <div className="space-y-3">
            <h1 tabIndex={-1} className="text-2xl font-semibold">
              Page not found
            </h1>
            <p className="text-sm text-slate-600">
              Nothing lives at <code className="font-mono">{route.path}</code>.{' '}
              <a className="underline" href="#/upload">
                Go to the upload page
              </a>
            </p>
          </div>
        )}
      </main>
    </div>
  )
}

function NavLink({ href, active, children }: { href: string; active: boolean; children: ReactNode }) {
  return (
    <a
      href={href}
      aria-current={active ? 'page' : undefined}
      className={`rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-700 ${
        active ? 'bg-teal-50 text-teal-900' : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900'
      }`}
    >
      {children}
    </a>
  )
}

const INDICATOR_TONES: Partial<Record<Snapshot['phase'], string>> = {
  done: 'bg-emerald-50 text-emerald-900 ring-emerald-600/30',
  failed: 'bg-red-50 text-red-900 ring-red-600/30',
}

/** While another page is open, a link back to the upload with its state ("42% uploading"). */
function UploadIndicator({ session }: { session: SessionView }) {
  const status = useSessionValue(session, uploadStatus)
  const phase = useSessionValue(session, (snap) => snap.phase)
  if (!status) return null
  return (
    <a
      href="#/upload"
      className={`ml-auto rounded-full px-3 py-1 text-xs font-medium ring-1 ${INDICATOR_TONES[phase] ?? 'bg-sky-50 text-sky-900 ring-sky-600/30'}`}
    >
      {status}
    </a>
  )
}
