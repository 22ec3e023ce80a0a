import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { Inlet } from './App'
import { ApiClient } from './lib/api'
import { parseConfig } from './lib/config'
import { Network } from './lib/network'
import { parseHash } from './lib/router'
import { fakeSession } from './pages/upload/fakeSession'
import { fakeApi, fakeHasher } from './test/fakes'
import { documentTitle } from './title'
import { ResumeStore } from './upload/resume'
import { UploadSession } from './upload/session'
import type { Snapshot } from './upload/snapshot'

const config = parseConfig({ apiUrl: 'http://api.test' })

function goTo(hash: string) {
  window.location.hash = hash
  window.dispatchEvent(new HashChangeEvent('hashchange'))
}

afterEach(() => {
  window.location.hash = ''
})

/** A snapshot of a session: idle with nothing chosen, but for `change`. */
const snapshot = (change: Partial<Snapshot> = {}) => fakeSession(change).getSnapshot()
const progress = { total: 1000, done: 0, fraction: 0, speed: null, eta: null }

/** An ApiClient that reports to `net`; its fetch gets no answer while `down.value`. */
function flakyApi(net: Network, down: { value: boolean }) {
  const calls: string[] = []
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const path = new URL(String(input)).pathname
    calls.push(path)
    if (down.value) throw new TypeError('Failed to fetch')
    const body = path === '/health' ? { status: 'ok', checks: {} } : { items: [], next_cursor: null }
    return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } })
  }) as typeof fetch
  return { api: new ApiClient(config.apiUrl, fetchImpl, undefined, net), calls }
}

describe('the app shell', () => {
  it('routes by the URL hash, marks the current page and moves focus to its title', async () => {
    const { api } = fakeApi({ 'GET /v1/runs': () => ({ body: { items: [], next_cursor: null } }) })
    const session = new UploadSession({ api, hasher: fakeHasher(), store: new ResumeStore() })
    render(<Inlet config={config} api={api} session={session} network={new Network(null)} />)
    expect(screen.getByRole('heading', { level: 1, name: 'Upload files' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Upload' })).toHaveAttribute('aria-current', 'page')
    expect(document.title).toBe('Upload · Inlet')

    await act(async () => goTo('#/runs'))
    const title = await screen.findByRole('heading', { level: 1, name: 'Runs' })
    expect(screen.getByRole('link', { name: 'Runs' })).toHaveAttribute('aria-current', 'page')
    await waitFor(() => expect(title).toHaveFocus())
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()
    expect(document.title).toBe('Runs · Inlet')

    await act(async () => goTo('#/elsewhere'))
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument()
    expect(document.title).toBe('Page not found · Inlet')
  })

  it('says on every page that the browser is offline, until it is back', async () => {
    const net = new Network(null)
    const { api, calls } = flakyApi(net, { value: false })
    render(<Inlet config={config} api={api} session={fakeSession()} network={net} />)
    const live = screen.getByRole('status', { name: 'Connection' })
    expect(live).toBeEmptyDOMElement()

    act(() => net.setOnline(false))
    expect(live).toHaveTextContent(
      'You are offline. Uploads pause and continue when the connection is back; the lists refresh then.',
    )
    await act(async () => goTo('#/runs'))
    expect(live).toHaveTextContent('You are offline.')
    expect(calls).not.toContain('/v1/runs') // the list waits for the network

    act(() => net.setOnline(true))
    expect(live).toBeEmptyDOMElement()
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()
  })

  it('says when the API does not answer; Try again asks its health, and the lists load once it answers', async () => {
    const net = new Network(null)
    const down = { value: true }
    const { api, calls } = flakyApi(net, down)
    window.location.hash = '#/runs'
    render(<Inlet config={config} api={api} session={fakeSession()} network={net} />)
    const live = screen.getByRole('status', { name: 'Connection' })
    await waitFor(() => expect(live).toHaveTextContent('Cannot reach the Inlet API at http://api.test. Retrying…'))

    const tryAgain = within(live).getByRole('button', { name: 'Try again' })
    await userEvent.setup().click(tryAgain)
    expect(calls.at(-1)).toBe('/health')
    expect(live).toHaveTextContent('Cannot reach the Inlet API') // still no answer

    // The list gave up (after its own retries); once the API answers, it is asked again.
    expect(await screen.findByText('Could not load the runs', {}, { timeout: 5_000 })).toBeInTheDocument()
    down.value = false
    await userEvent.setup().click(within(live).getByRole('button', { name: 'Try again' }))
    await waitFor(() => expect(live).toBeEmptyDOMElement())
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()
  })

  it('shows the upload in the tab title and, on other pages, in a link back to it', async () => {
    const session = fakeSession()
    const { api } = flakyApi(new Network(null), { value: false })
    window.location.hash = '#/runs'
    render(<Inlet config={config} api={api} session={session} network={new Network(null)} />)
    expect(document.title).toBe('Runs · Inlet')

    act(() => session.set({ phase: 'uploading', overall: { ...progress, fraction: 0.427, stalled: false } }))
    expect(document.title).toBe('42% uploading · Inlet')
    expect(screen.getByRole('link', { name: '42% uploading' })).toHaveAttribute('href', '#/upload')

    act(() => session.set({ phase: 'done', overall: { ...progress, fraction: 1, stalled: false } }))
    expect(document.title).toBe('✓ Uploaded · Inlet')
    expect(screen.getByRole('link', { name: '✓ Uploaded' })).toBeInTheDocument()

    act(() => session.set({ phase: 'idle' }))
    expect(document.title).toBe('Runs · Inlet')
    const header = within(screen.getByRole('banner'))
    expect(header.getAllByRole('link').map((link) => link.textContent)).toEqual(['Inlet', 'Upload', 'Runs'])
  })
})

describe('the tab title', () => {
  const upload = parseHash('#/upload')
  const uploading = (overall: Partial<Snapshot['overall']>, changes: Partial<Snapshot> = {}) =>
    snapshot({ phase: 'uploading', overall: { ...progress, stalled: false, ...overall }, ...changes })

  it.each([
    ['idle on the upload page', upload, snapshot(), 'Upload · Inlet'],
    ['idle on the runs page', parseHash('#/runs'), snapshot(), 'Runs · Inlet'],
    ['idle on a run page', parseHash('#/runs/0123456789abcdef'), snapshot(), 'Run 01234567 · Inlet'],
    ['hashing', upload, snapshot({ phase: 'hashing', hashing: { ...progress, fraction: 0.129 } }), 'Checksums 12% · Inlet'],
    ['creating the run', upload, snapshot({ phase: 'creating' }), 'Starting upload · Inlet'],
    ['uploading', parseHash('#/runs'), uploading({ fraction: 0.42 }), '42% uploading · Inlet'],
    ['almost done (never 100% before it is)', upload, uploading({ fraction: 0.9999 }), '99% uploading · Inlet'],
    ['stalled', upload, uploading({ fraction: 0.42, stalled: true }), '42% waiting for network · Inlet'],
    ['offline', upload, uploading({ fraction: 0.42, stalled: true }, { online: false }), 'Offline at 42% · Inlet'],
    ['paused', upload, uploading({ fraction: 0.42 }, { paused: true }), 'Paused at 42% · Inlet'],
    ['done', parseHash('#/runs'), snapshot({ phase: 'done' }), '✓ Uploaded · Inlet'],
    ['failed', upload, snapshot({ phase: 'failed' }), 'Upload failed · Inlet'],
    ['cancelled', upload, snapshot({ phase: 'cancelled' }), 'Upload · Inlet'],
  ])('%s', (_, route, snap, title) => {
    expect(documentTitle(route, snap)).toBe(title)
  })
})
