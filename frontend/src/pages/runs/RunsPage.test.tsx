import { onlineManager } from '@tanstack/react-query'
import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { network } from '../../lib/network'
import { useRoute } from '../../lib/router'
import type { RunOut } from '../../lib/types'
import { fakeApi, makeRun } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { CONFIRM_TEXT } from '../run/CancelRun'
import { RunsPage, anyPending } from './RunsPage'

/** The runs page as the app shows it: its view is the URL's, and follows it. */
function Routed({ refreshMs, searchDelayMs = 20 }: { refreshMs?: number; searchDelayMs?: number }) {
  const route = useRoute()
  return route.name === 'runs' ? <RunsPage view={route} refreshMs={refreshMs} searchDelayMs={searchDelayMs} /> : null
}

function page(items: RunOut[], next_cursor: string | null = null) {
  return { body: { items, next_cursor } }
}

const offline = () => {
  throw new TypeError('Failed to fetch')
}

beforeEach(() => {
  window.location.hash = '#/runs'
})

afterEach(() => {
  network.setOnline(true)
  onlineManager.setOnline(true)
  vi.unstubAllGlobals()
})

describe('RunsPage', () => {
  it('shows runs newest first with their status, size and links', async () => {
    const { api } = fakeApi({
      'GET /v1/runs': () =>
        page([
          makeRun({ id: ids[0], label: 'prod SH', status: 'stored', total_bytes: 20_000_000, file_count: 2 }),
          makeRun({ id: ids[1], label: null, status: 'failed', type: 'ds_etc' }),
        ]),
    })
    renderWith(<Routed />, api)
    const rows = await screen.findAllByTestId('run-row')
    expect(rows).toHaveLength(2)
    expect(within(rows[0]).getByText('prod SH')).toBeInTheDocument()
    expect(within(rows[0]).getByText('stored')).toBeInTheDocument()
    expect(within(rows[0]).getByText('20.0 MB')).toBeInTheDocument()
    expect(within(rows[0]).getByRole('link', { name: 'aaaaaaaa' })).toHaveAttribute('href', `#/runs/${ids[0]}`)
    expect(within(rows[1]).getByText('failed')).toBeInTheDocument()
    expect(screen.getByRole('table')).toHaveAccessibleName(/Runs, newest first/)
    // Only pending runs can be cancelled.
    expect(screen.queryByRole('button', { name: /^Cancel run/ })).not.toBeInTheDocument()
  })

  it('shows each run as a card on a phone, its size in view', async () => {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }))
    const { api } = fakeApi({
      'GET /v1/runs': () => page([makeRun({ id: ids[0], label: 'Été 🎉 release', status: 'pending', total_bytes: 734_003_200, file_count: 3 })]),
    })
    renderWith(<Routed />, api)
    const [card] = await screen.findAllByTestId('run-row')
    expect(card.tagName).toBe('LI')
    expect(screen.queryByRole('table')).not.toBeInTheDocument()
    expect(screen.getByRole('list', { name: /Runs, newest first/ })).toContainElement(card)
    expect(within(card).getByText('734 MB')).toBeInTheDocument()
    expect(within(card).getByText('Été 🎉 release')).toBeInTheDocument()
    expect(within(card).getByText('3 files')).toBeInTheDocument()
    expect(within(card).getByRole('button', { name: 'Cancel run Été 🎉 release' })).toBeInTheDocument()
  })

  it('shows a hostile label isolated, without its controls or bidi override', async () => {
    const { api } = fakeApi({
      'GET /v1/runs': () => page([makeRun({ id: ids[0], label: 'invoice\u202efdp.exe\u001b[2J', status: 'stored' })]),
    })
    renderWith(<Routed />, api)
    const [row] = await screen.findAllByTestId('run-row')
    const label = within(row).getByText('invoice\ufffdfdp.exe\ufffd[2J')
    expect(label.tagName).toBe('BDI')
    expect(row.textContent).not.toContain('\u202e')
    expect(row.textContent).not.toContain('\u001b')
    // The status cell after it is where it was.
    expect(within(row).getByText('stored')).toBeInTheDocument()
  })

  it('pages with the cursor the API returns, each page in the URL, and back', async () => {
    const cursors: (string | null)[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        cursors.push(query.get('cursor'))
        return query.get('cursor') === 'page2'
          ? page([makeRun({ id: ids[2], label: 'older', status: 'stored' })])
          : page([makeRun({ id: ids[0], label: 'newer', status: 'stored' })], 'page2')
      },
    })
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    await screen.findByText('newer')
    expect(screen.getByText('Page 1')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: '← Newer' })).toBeDisabled()
    await user.click(screen.getByRole('button', { name: 'Older →' }))
    await screen.findByText('older')
    expect(window.location.hash).toBe('#/runs?after=page2')
    expect(screen.getByText('Page 2')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Older →' })).toBeDisabled()
    await user.click(screen.getByRole('button', { name: '← Newer' }))
    await screen.findByText('newer')
    expect(window.location.hash).toBe('#/runs')
    expect(cursors).toEqual([null, 'page2', null].slice(0, cursors.length))
  })

  it('opens the page the URL names: filters, search and cursors, as after a reload', async () => {
    const queries: URLSearchParams[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        queries.push(query)
        return page([makeRun({ id: ids[2], label: 'café crème 3', status: 'pending' })], 'c3')
      },
    })
    window.location.hash = '#/runs?status=pending&type=ds_etc&q=caf%C3%A9+cr%C3%A8me&after=c1&after=c2'
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    await screen.findByText('café crème 3')
    expect(Object.fromEntries(queries[0])).toEqual({ status: 'pending', type: 'ds_etc', q: 'café crème', cursor: 'c2', limit: '25' })
    expect(screen.getByText('Page 3')).toBeInTheDocument()
    expect(screen.getByRole('searchbox', { name: 'Search labels' })).toHaveValue('café crème')
    expect(screen.getByLabelText('Status')).toHaveValue('pending')
    expect(screen.getByRole('table')).toHaveAccessibleName('Runs, newest first, status pending, type ds_etc, label contains “café crème”')
    await user.click(screen.getByRole('button', { name: '← Newer' }))
    await waitFor(() => expect(screen.getByText('Page 2')).toBeInTheDocument())
    expect(window.location.hash).toBe('#/runs?status=pending&type=ds_etc&q=caf%C3%A9+cr%C3%A8me&after=c1')
    expect(queries.at(-1)?.get('cursor')).toBe('c1')
  })

  it('sends the filters, and a new filter starts at the newest page keeping the search', async () => {
    const queries: string[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        queries.push(query.toString())
        return page([])
      },
    })
    window.location.hash = '#/runs?status=pending&type=ds_etc&q=abc&after=c1'
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    expect(await screen.findByText(/No runs match/)).toHaveTextContent('No runs match “abc” with these filters.')
    expect(queries[0]).toBe('status=pending&type=ds_etc&limit=25&cursor=c1&q=abc')
    await user.selectOptions(screen.getByLabelText('Status'), 'stored')
    expect(window.location.hash).toBe('#/runs?status=stored&type=ds_etc&q=abc')
    await waitFor(() => expect(queries.at(-1)).toBe('status=stored&type=ds_etc&limit=25&q=abc'))
  })

  it('searches labels once typing pauses, and says when nothing matches', async () => {
    const searched: (string | null)[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        searched.push(query.get('q'))
        return page(query.get('q') ? [] : [makeRun({ id: ids[0], label: 'Invoices 🧾 März', status: 'stored' })])
      },
    })
    const user = userEvent.setup()
    renderWith(<Routed searchDelayMs={50} />, api)
    await screen.findByText('Invoices 🧾 März')
    const box = screen.getByRole('searchbox', { name: 'Search labels' })
    await user.type(box, 'in')
    expect(await screen.findByText('Type at least 3 characters')).toBeInTheDocument()
    expect(window.location.hash).toBe('#/runs')
    await user.clear(box)
    await user.paste('no such')
    await waitFor(() => expect(window.location.hash).toBe('#/runs?q=no+such'))
    expect(await screen.findByText(/No runs match/)).toHaveTextContent('No runs match “no such”.')
    expect(screen.getByRole('link', { name: 'Show all runs' })).toHaveAttribute('href', '#/runs')
    expect(screen.queryByText('Type at least 3 characters')).not.toBeInTheDocument()
    expect(searched).toEqual([null, 'no such'])
  })

  it('searches at once on Enter, refines in the same history entry, and clears', async () => {
    const searched: (string | null)[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        searched.push(query.get('q'))
        return page([makeRun({ id: ids[0], label: 'Café crème', status: 'stored' })])
      },
    })
    const user = userEvent.setup()
    // Typing never pauses long enough here: only Enter sends.
    renderWith(<Routed searchDelayMs={60_000} />, api)
    await screen.findByText('Café crème')
    const box = screen.getByRole('searchbox', { name: 'Search labels' })
    const entries = window.history.length
    await user.type(box, '  Café {Enter}')
    await waitFor(() => expect(window.location.hash).toBe('#/runs?q=Caf%C3%A9'))
    expect(window.history.length).toBe(entries + 1)
    // The box keeps what was typed, spaces and all.
    expect(box).toHaveValue('  Café ')
    await user.type(box, 'crème{Enter}')
    await waitFor(() => expect(window.location.hash).toBe('#/runs?q=Caf%C3%A9+cr%C3%A8me'))
    expect(window.history.length).toBe(entries + 1)
    await user.click(screen.getByRole('button', { name: 'Clear the search' }))
    await waitFor(() => expect(window.location.hash).toBe('#/runs'))
    expect(box).toHaveValue('')
    expect(box).toHaveFocus()
    await waitFor(() => expect(searched.at(-1)).toBe(null))
    expect(searched).toEqual([null, 'Café', 'Café crème', null])
  })

  it('shows the search of the URL when Back changes it', async () => {
    const { api } = fakeApi({ 'GET /v1/runs': () => page([]) })
    renderWith(<Routed />, api)
    const box = screen.getByRole('searchbox', { name: 'Search labels' })
    act(() => {
      window.location.hash = '#/runs?q=older+search'
    })
    await waitFor(() => expect(box).toHaveValue('older search'))
  })

  it('has an empty state that points to the upload page', async () => {
    const { api } = fakeApi({ 'GET /v1/runs': () => page([]) })
    renderWith(<Routed />, api)
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Upload files' })).toHaveAttribute('href', '#/upload')
  })

  it("shows the API's error, and tries again", async () => {
    let calls = 0
    const { api } = fakeApi({
      'GET /v1/runs': () => {
        calls += 1
        return calls === 1
          ? { status: 503, body: { error: { code: 'unavailable', message: 'the database cannot be reached; try again shortly' } } }
          : page([makeRun({ id: ids[0], label: 'back', status: 'stored' })])
      },
    })
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load the runs')
    expect(alert).toHaveTextContent('the database cannot be reached; try again shortly')
    expect(screen.queryByRole('table')).not.toBeInTheDocument()
    await user.click(within(alert).getByRole('button', { name: 'Try again' }))
    expect(await screen.findByText('back')).toBeInTheDocument()
  })

  it('says the API cannot be reached instead of showing an empty table', async () => {
    const { api } = fakeApi({ 'GET /v1/runs': offline })
    renderWith(<Routed />, api)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load the runs')
    expect(alert).toHaveTextContent('Cannot reach the Inlet API at http://api.test')
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument()
    expect(screen.queryByRole('table')).not.toBeInTheDocument()
    expect(screen.queryByText('No runs yet.')).not.toBeInTheDocument()
  })

  it('says the browser is offline, whether the request failed or waits for the connection', async () => {
    network.setOnline(false)
    const { api } = fakeApi({ 'GET /v1/runs': offline })
    const first = renderWith(<Routed />, api)
    expect(await screen.findByText('You are offline')).toBeInTheDocument()
    expect(screen.getByText('The runs will load when you are back online.')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument()
    first.unmount()

    // React Query holds a query while it believes the browser offline: no error, no data.
    onlineManager.setOnline(false)
    renderWith(<Routed />, fakeApi({ 'GET /v1/runs': () => page([]) }).api)
    expect(await screen.findByText('You are offline')).toBeInTheDocument()
    expect(screen.queryByText('No runs yet.')).not.toBeInTheDocument()
  })

  it('keeps the runs shown when a refresh fails, and says so', async () => {
    let calls = 0
    const { api } = fakeApi({
      'GET /v1/runs': () => {
        calls += 1
        if (calls > 1) offline()
        return page([makeRun({ id: ids[0], label: 'still here', status: 'pending' })])
      },
    })
    renderWith(<Routed refreshMs={20} />, api)
    await screen.findByText('still here')
    expect(await screen.findByText(/^Could not refresh: Cannot reach the Inlet API/)).toBeInTheDocument()
    expect(screen.getByText('still here')).toBeInTheDocument()
  })

  it('cancels a pending run from its row after a confirm step', async () => {
    let status: RunOut['status'] = 'pending'
    const run = () => makeRun({ id: ids[0], label: 'half done', status })
    const { api, calls } = fakeApi({
      'GET /v1/runs': () => page([run(), makeRun({ id: ids[1], label: 'done', status: 'stored' })]),
      'DELETE /v1/uploads/:id': () => {
        status = 'cancelled'
        return { body: run() }
      },
    })
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    const [row, other] = await screen.findAllByTestId('run-row')
    expect(within(other).queryByRole('button', { name: /Cancel/ })).not.toBeInTheDocument()
    const cancel = within(row).getByRole('button', { name: 'Cancel run half done' })
    await user.click(cancel)
    expect(within(row).getByRole('group', { name: CONFIRM_TEXT })).toBeInTheDocument()
    // Keep is the safe choice: it has the focus, and nothing is sent.
    expect(within(row).getByRole('button', { name: 'Keep' })).toHaveFocus()
    await user.keyboard('{Enter}')
    expect(within(row).queryByText(CONFIRM_TEXT)).not.toBeInTheDocument()
    expect(cancel).toHaveFocus()
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0)

    await user.click(cancel)
    await user.click(within(row).getByRole('button', { name: 'Confirm' }))
    expect(await within(row).findByText('Run cancelled.')).toHaveFocus()
    expect(within(row).getByText('cancelled')).toBeInTheDocument()
    expect(within(row).queryByRole('button', { name: /Cancel run/ })).not.toBeInTheDocument()
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/v1/uploads/${ids[0]}`])
  })

  it('says a run is no longer pending when the API refuses to cancel it, and shows its status', async () => {
    let status: RunOut['status'] = 'pending'
    const { api } = fakeApi({
      'GET /v1/runs': () => page([makeRun({ id: ids[0], label: 'raced', status })]),
      'DELETE /v1/uploads/:id': () => {
        status = 'stored' // it finished meanwhile
        return { status: 409, body: { error: { code: 'run_not_pending', message: 'run is stored; only pending runs can be cancelled' } } }
      },
    })
    const user = userEvent.setup()
    renderWith(<Routed />, api)
    const [row] = await screen.findAllByTestId('run-row')
    await user.click(within(row).getByRole('button', { name: 'Cancel run raced' }))
    await user.click(within(row).getByRole('button', { name: 'Confirm' }))
    expect(await within(row).findByRole('alert')).toHaveTextContent('Not cancelled: the run is no longer pending.')
    expect(await within(row).findByText('stored')).toBeInTheDocument()
  })

  it('refreshes by itself while a run is pending, and stops when none is', async () => {
    let status: RunOut['status'] = 'pending'
    let fetches = 0
    const { api } = fakeApi({
      'GET /v1/runs': () => {
        fetches += 1
        const body = page([makeRun({ id: ids[0], status })])
        status = 'stored'
        return body
      },
    })
    renderWith(<Routed refreshMs={30} />, api)
    const row = await screen.findByTestId('run-row')
    expect(row).toHaveTextContent('pending')
    await waitFor(() => expect(screen.getByTestId('run-row')).toHaveTextContent('stored'))
    expect(fetches).toBeGreaterThanOrEqual(2)
    await new Promise((r) => setTimeout(r, 100))
    const settled = fetches
    await new Promise((r) => setTimeout(r, 150))
    expect(fetches).toBe(settled)
    expect(anyPending({ items: [makeRun({ status: 'pending' })], next_cursor: null })).toBe(true)
    expect(anyPending(undefined)).toBe(false)
  })
})
