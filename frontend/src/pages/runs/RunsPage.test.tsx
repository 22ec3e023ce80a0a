import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { RunOut } from '../../lib/types'
import { fakeApi, makeRun } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { RunsPage, anyPending } from './RunsPage'

describe('RunsPage', () => {
  it('shows runs newest first with their status, size and links', async () => {
    const { api } = fakeApi({
      'GET /v1/runs': () => ({
        body: {
          items: [
            makeRun({ id: ids[0], label: 'prod SH', status: 'stored', total_bytes: 20_000_000, file_count: 2 }),
            makeRun({ id: ids[1], label: null, status: 'failed', type: 'ds_etc' }),
          ],
          next_cursor: null,
        },
      }),
    })
    renderWith(<RunsPage status="" type="" />, api)
    const rows = await screen.findAllByTestId('run-row')
    expect(rows).toHaveLength(2)
    expect(within(rows[0]).getByText('prod SH')).toBeInTheDocument()
    expect(within(rows[0]).getByText('stored')).toBeInTheDocument()
    expect(within(rows[0]).getByText('20.0 MB')).toBeInTheDocument()
    expect(within(rows[0]).getByRole('link', { name: 'aaaaaaaa' })).toHaveAttribute('href', `#/runs/${ids[0]}`)
    expect(within(rows[1]).getByText('failed')).toBeInTheDocument()
    expect(screen.getByRole('table')).toHaveAccessibleName(/Runs, newest first/)
  })

  it('shows a hostile label isolated, without its controls or bidi override', async () => {
    const { api } = fakeApi({
      'GET /v1/runs': () => ({
        body: { items: [makeRun({ id: ids[0], label: 'invoice\u202efdp.exe\u001b[2J', status: 'stored' })], next_cursor: null },
      }),
    })
    renderWith(<RunsPage status="" type="" />, api)
    const [row] = await screen.findAllByTestId('run-row')
    const label = within(row).getByText('invoice\ufffdfdp.exe\ufffd[2J')
    expect(label.tagName).toBe('BDI')
    expect(row.textContent).not.toContain('\u202e')
    expect(row.textContent).not.toContain('\u001b')
    // The status cell after it is where it was.
    expect(within(row).getByText('stored')).toBeInTheDocument()
  })

  it('pages with the cursor the API returns, and back', async () => {
    const { api, calls } = fakeApi({
      'GET /v1/runs': ({ query }) =>
        query.get('cursor') === 'page2'
          ? { body: { items: [makeRun({ id: ids[2], label: 'older' , status: 'stored'})], next_cursor: null } }
          : { body: { items: [makeRun({ id: ids[0], label: 'newer', status: 'stored' })], next_cursor: 'page2' } },
    })
    const user = userEvent.setup()
    renderWith(<RunsPage status="" type="" />, api)
    await screen.findByText('newer')
    expect(screen.getByRole('button', { name: '← Newer' })).toBeDisabled()
    await user.click(screen.getByRole('button', { name: 'Older →' }))
    await screen.findByText('older')
    expect(screen.getByText('Page 2')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Older →' })).toBeDisabled()
    await user.click(screen.getByRole('button', { name: '← Newer' }))
    await screen.findByText('newer')
    expect(calls.map((c) => c.path)).toEqual(['/v1/runs', '/v1/runs', '/v1/runs'].slice(0, calls.length))
  })

  it('sends the filters and changes the URL when they change', async () => {
    const queries: string[] = []
    const { api } = fakeApi({
      'GET /v1/runs': ({ query }) => {
        queries.push(query.toString())
        return { body: { items: [], next_cursor: null } }
      },
    })
    const user = userEvent.setup()
    renderWith(<RunsPage status="pending" type="ds_etc" />, api)
    expect(await screen.findByText('No runs match these filters.')).toBeInTheDocument()
    expect(queries[0]).toBe('status=pending&type=ds_etc&limit=25')
    await user.selectOptions(screen.getByLabelText('Status'), 'stored')
    expect(window.location.hash).toBe('#/runs?status=stored&type=ds_etc')
  })

  it('has an empty state that points to the upload page', async () => {
    const { api } = fakeApi({ 'GET /v1/runs': () => ({ body: { items: [], next_cursor: null } }) })
    renderWith(<RunsPage status="" type="" />, api)
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Upload files' })).toHaveAttribute('href', '#/upload')
  })

  it("shows the API's error", async () => {
    const { api } = fakeApi({
      'GET /v1/runs': () => ({ status: 503, body: { error: { code: 'unavailable', message: 'the database cannot be reached; try again shortly' } } }),
    })
    renderWith(<RunsPage status="" type="" />, api)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load the runs')
    expect(alert).toHaveTextContent('the database cannot be reached; try again shortly')
  })

  it('refreshes by itself while a run is pending, and stops when none is', async () => {
    let status: RunOut['status'] = 'pending'
    let fetches = 0
    const { api } = fakeApi({
      'GET /v1/runs': () => {
        fetches += 1
        const body = { items: [makeRun({ id: ids[0], status })], next_cursor: null }
        status = 'stored'
        return { body }
      },
    })
    renderWith(<RunsPage status="" type="" refreshMs={30} />, api)
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
