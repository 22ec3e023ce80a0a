import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react'
import { ErrorAlert } from './components/Alert'
import { Spinner } from './components/Spinner'
import { TokenField } from './components/TokenField'
import { ApiClient } from './lib/api'
import { type InletConfig, loadConfig } from './lib/config'
import { AppContext } from './lib/context'
import { retryQuery } from './lib/retry'
import { type Route, useRoute } from './lib/router'
import { loadToken } from './lib/token'
import { RunDetailPage } from './pages/run/RunDetailPage'
import { RunsPage } from './pages/runs/RunsPage'
import { UploadPage } from './pages/upload/UploadPage'
import { useSession } from './pages/upload/useSession'
import { WorkerHasher } from './upload/hasher'
import { percent } from './upload/progress'
import { ResumeStore } from './upload/resume'
import { UploadSession } from './upload/session'

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
  api: givenApi,
  session: givenSession,
}: {
  config: InletConfig
  api?: ApiClient
  session?: UploadSession
}) {
  const api = useMemo(() => givenApi ?? new ApiClient(config.apiUrl, undefined, loadToken), [givenApi, config.apiUrl])
  const [queryClient] = useState(makeQueryClient)
  // One upload session for the life of the page, so moving between pages never stops an upload.
  const [session] = useState(() => givenSession ?? new UploadSession({ api, hasher: new WorkerHasher(), store: new ResumeStore() }))
  const route = useRoute()
  const context = useMemo(() => ({ config, api }), [config, api])
  return (
    <AppContext.Provider value={context}>
      <QueryClientProvider client={queryClient}>
        <Shell route={route} session={session} authRequired={config.authRequired === true} />
      </QueryClientProvider>
    </AppContext.Provider>
  )
}

function Shell({ route, session, authRequired }: { route: Route; session: UploadSession; authRequired: boolean }) {
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  const routeKey = JSON.stringify(route)
  // Move focus to the new page's title so keyboard and screen reader users land on it.
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus()
  }, [routeKey])

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
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
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
      <main id="main" ref={main} className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
        {route.name === 'upload' && <UploadPage session={session} />}
        {route.name === 'runs' && <RunsPage key={`${route.status}|${route.type}`} status={route.status} type={route.type} />}
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

/** While an upload runs and another page is open, a link back to it with its progress. */
function UploadIndicator({ session }: { session: UploadSession }) {
  const snap = useSession(session)
  if (snap.phase !== 'uploading' && snap.phase !== 'hashing') return null
  return (
    <a href="#/upload" className="ml-auto rounded-full bg-sky-50 px-3 py-1 text-xs font-medium text-sky-900 ring-1 ring-sky-600/30">
      Uploading {percent(snap.overall.fraction)}%
    </a>
  )
}
