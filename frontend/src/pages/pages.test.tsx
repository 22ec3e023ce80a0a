import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import type { ReactNode } from 'react'
import { describe, expect, it, vi } from 'vitest'
import type { ApiClient } from '../lib/api'
import { parseConfig } from '../lib/config'
import { AppContext } from '../lib/context'
import type { Run } from '../lib/types'
import { fakeApi, fakeHasher, fakeS3, makeFile, makeRun, makeRunDetail, quietLogger } from '../test/fakes'
import { ResumeStore } from '../upload/resume'
import { UploadSession } from '../upload/session'
import { RunDetailPage, timeline } from './RunDetailPage'
import { RunsPage, anyPending } from './RunsPage'
import { UploadPage, rateText } from './UploadPage'

const config = parseConfig({ apiUrl: 'http://api.test' })

function renderWith(ui: ReactNode, api: ApiClient) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  return render(
    <AppContext.Provider value={{ config, api }}>
      <QueryClientProvider client={client}>{ui}</QueryClientProvider>
    </AppContext.Provider>,
  )
}

const ids = ['aaaaaaaa-0000-0000-0000-000000000001', 'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-000000000003']

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
    let status: Run['status'] = 'pending'
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

describe('RunDetailPage', () => {
  const sha = 'ab'.repeat(32)
  const stored = makeRunDetail({
    id: ids[0],
    status: 'stored',
    stored_at: '2026-11-27T10:00:05Z',
    notes: 'first line\nsecond line',
    files: [
      {
        id: 'f1',
        run_id: ids[0],
        name: 'etc.tgz',
        key: `runs/${ids[0]}/f1/etc.tgz`,
        size_bytes: 734_003_200,
        content_type: 'application/gzip',
        status: 'stored',
        sha256: sha,
        declared_sha256: sha,
        etag: '"x-44"',
        stored_at: '2026-11-27T10:00:04Z',
        error: null,
      },
    ],
  })

  it('shows files with their sha256 and a copy button, and the timeline', async () => {
    const { api } = fakeApi({ 'GET /v1/runs/:id': () => ({ body: stored }) })
    const user = userEvent.setup() // installs its own clipboard stub: replace it after
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    renderWith(<RunDetailPage id={ids[0]} />, api)
    expect(await screen.findByRole('heading', { level: 1, name: 'prod SH' })).toBeInTheDocument()
    expect(screen.getByTestId('file-sha256')).toHaveTextContent(sha)
    expect(screen.getByText('734 MB')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Copy the sha256 of etc.tgz' }))
    expect(writeText).toHaveBeenCalledWith(sha)
    expect(await screen.findByText('Copied')).toBeInTheDocument()
    expect(screen.getByText('Run created')).toBeInTheDocument()
    expect(screen.getByText('etc.tgz stored')).toBeInTheDocument()
    expect(screen.getByText('Run stored')).toBeInTheDocument()
  })

  it('says when there is no such run', async () => {
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ status: 404, body: { error: { code: 'not_found', message: 'run nope not found' } } }),
    })
    renderWith(<RunDetailPage id="nope" />, api)
    expect(await screen.findByRole('heading', { level: 1, name: 'Run not found' })).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('run nope not found')
  })

  it('follows a pending run until it is stored', async () => {
    let calls = 0
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => {
        calls += 1
        return { body: calls < 2 ? makeRunDetail({ id: ids[0] }) : stored }
      },
    })
    renderWith(<RunDetailPage id={ids[0]} refreshMs={30} />, api)
    expect(await screen.findByText('Waiting for 1 file')).toBeInTheDocument()
    expect(await screen.findByText('Run stored')).toBeInTheDocument()
  })

  it('builds a timeline for failed and cancelled runs', () => {
    const failed = makeRunDetail({
      status: 'failed',
      error: { code: 'checksum_mismatch', message: 'a file failed' },
      files: [{ ...stored.files[0], status: 'failed', sha256: null, error: { code: 'checksum_mismatch', message: 'sha256 differs' } }],
    })
    expect(timeline(failed).map((e) => e.title)).toEqual(['Run created', 'etc.tgz failed', 'Run failed'])
    expect(timeline(makeRunDetail({ status: 'cancelled' })).at(-1)?.title).toBe('Run cancelled')
    expect(timeline(makeRunDetail({ source: 'bucket' }))[0].title).toBe('Adopted from the bucket')
  })
})

describe('UploadPage', () => {
  function page(handlers: Parameters<typeof fakeApi>[0]) {
    const { api, calls } = fakeApi(handlers)
    const s3 = fakeS3()
    const session = new UploadSession({
      api,
      hasher: fakeHasher(),
      store: new ResumeStore(),
      uploaderOptions: { uploadPartBytes: s3.send, retryDelays: [0], logger: quietLogger },
      throttleMs: 0,
    })
    renderWith(<UploadPage session={session} />, api)
    return { calls, s3, session }
  }

  it('is labelled for assistive technology', () => {
    page({})
    expect(screen.getByLabelText('Run type')).toHaveValue('app_bundle')
    expect(screen.getByLabelText('Label (optional)')).toBeInTheDocument()
    expect(screen.getByLabelText('Notes (optional)')).toHaveAccessibleDescription('Anything the people processing this run should know.')
    expect(screen.getByLabelText('Choose files')).toHaveAttribute('type', 'file')
    expect(screen.getByRole('button', { name: 'Upload files' })).toBeDisabled()
  })

  it('lists chosen files with their sha256, uploads them and links the run', async () => {
    const { calls, s3 } = page({
      'POST /v1/uploads': ({ body }) => {
        const request = body as { files: { name: string; size: number; content_type: string; sha256: string }[] }
        return {
          status: 201,
          body: {
            run: makeRun({ id: ids[0] }),
            files: request.files.map((f, i) => ({
              ...makeRunDetail().files[0],
              id: `f${i}`,
              name: f.name,
              size_bytes: f.size,
              upload: { method: 'PUT', url: `http://s3.test/b/f${i}`, headers: { 'Content-Type': f.content_type }, expires_at: new Date(Date.now() + 60_000).toISOString() },
            })),
          },
        }
      },
    })
    const user = userEvent.setup()
    await user.upload(screen.getByLabelText('Choose files'), [makeFile('a.txt', 10, 1, 'text/plain'), makeFile('b.bin', 20)])
    expect(await screen.findAllByTestId('file-row')).toHaveLength(2)
    await screen.findAllByText(/^sha256 [0-9a-f]{64}$/)
    await user.selectOptions(screen.getByLabelText('Run type'), 'ds_etc')
    await user.type(screen.getByLabelText('Label (optional)'), 'nightly')
    await user.click(screen.getByRole('button', { name: 'Upload 2 files' }))
    expect(await screen.findByText('All files are in the bucket')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Open the run' })).toHaveAttribute('href', `#/runs/${ids[0]}`)
    expect(screen.getByRole('progressbar', { name: 'Overall upload progress' })).toHaveAttribute('aria-valuenow', '100')
    expect(s3.sent).toHaveLength(2)
    expect(calls[0].body).toMatchObject({ type: 'ds_etc', label: 'nightly', notes: null })
  })

  it("shows the API's message when it refuses", async () => {
    page({
      'POST /v1/uploads': () => ({
        status: 413,
        body: { error: { code: 'too_large', message: "file 'big.bin' is 2000000 bytes; the limit is 1048576 bytes", details: [] } },
      }),
    })
    const user = userEvent.setup()
    await user.upload(screen.getByLabelText('Choose files'), makeFile('big.bin', 2_000))
    await screen.findByText(/^sha256 [0-9a-f]{64}$/)
    await user.click(screen.getByRole('button', { name: 'Upload 1 file' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('The API refused this upload')
    expect(alert).toHaveTextContent("file 'big.bin' is 2000000 bytes; the limit is 1048576 bytes")
    await user.click(within(alert).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  it('removes a file with the keyboard', async () => {
    page({})
    const user = userEvent.setup()
    await user.upload(screen.getByLabelText('Choose files'), makeFile('a.txt', 10))
    const remove = await screen.findByRole('button', { name: 'Remove a.txt' })
    remove.focus()
    await user.keyboard('{Enter}')
    await waitFor(() => expect(screen.queryByTestId('file-row')).not.toBeInTheDocument())
  })

  it('speed text', () => {
    expect(rateText(null, null)).toBe('measuring speed…')
    expect(rateText(0, null)).toMatch(/stalled/)
    expect(rateText(8_000_000, 3)).toBe('8.00 MB/s · 3 s left')
  })
})
