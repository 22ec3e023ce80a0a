import { onlineManager } from '@tanstack/react-query'
import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RunDetail } from '../../lib/types'
import { fakeApi, makeManifest, makeRunDetail, makeStoredFile } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { CONFIRM_TEXT } from './CancelRun'
import { RunDetailPage } from './RunDetailPage'
import { timeline } from './timeline'

afterEach(() => {
  onlineManager.setOnline(true)
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
        version_id: 'v-recorded',
        stored_at: '2026-11-27T10:00:04Z',
        error: null,
      },
    ],
  })
  const overwritten = {
    kind: 'overwritten' as const,
    file_id: 'f1',
    key: stored.files[0].key,
    recorded_version_id: 'v-recorded',
    other_version_id: 'v-other',
    detected_at: '2026-11-27T11:00:00Z',
    message: 'another version (v-other) was written over the key; the recorded version v-recorded stays readable',
  }

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

  it('shows the recorded version, and incidents in the timeline of a run still stored', async () => {
    const run = { ...stored, incidents: [overwritten, { ...overwritten, kind: 'deleted' as const, other_version_id: 'v-marker', detected_at: '2026-11-27T12:00:00Z', message: 'a delete marker (v-marker) was placed' }] }
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: run }),
      'GET /v1/runs/:id/files/:fid/manifest': () => ({ body: makeManifest({ entries: [] }) }),
    })
    renderWith(<RunDetailPage id={ids[0]} />, api)
    expect(await screen.findByTestId('file-version')).toHaveTextContent('v-recorded')
    expect(await screen.findByText('The archive is empty.')).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('The bucket changed under 1 file of this run')
    expect(screen.getByTestId('run-status')).toHaveTextContent('stored')
    expect(timeline(run).map((e) => [e.title, e.tone])).toEqual([
      ['Run created', 'neutral'],
      ['etc.tgz stored', 'done'],
      ['Run stored', 'done'],
      ['etc.tgz overwritten in the bucket', 'warning'],
      ['etc.tgz deleted in the bucket', 'warning'],
    ])
    expect(screen.getByText('etc.tgz overwritten in the bucket')).toBeInTheDocument()
  })

  it('says a file is lost when its recorded version is gone, and the run is no longer stored', async () => {
    const message = 'the recorded version v-recorded of the key is no longer in the bucket: it was permanently deleted'
    const lost = makeRunDetail({
      ...stored,
      status: 'failed',
      updated_at: '2026-11-27T13:00:00Z',
      error: { code: 'files_lost', message: '1 of 1 files lost their recorded version in the bucket (see incidents)' },
      files: [{ ...stored.files[0], status: 'lost', error: { code: 'version_deleted', message } }],
      incidents: [{ ...overwritten, kind: 'version_lost', other_version_id: null, detected_at: '2026-11-27T13:00:00Z', message }],
    })
    const { api } = fakeApi({ 'GET /v1/runs/:id': () => ({ body: lost }) })
    renderWith(<RunDetailPage id={ids[0]} />, api)
    expect(await screen.findByRole('alert')).toHaveTextContent('Run failed: files_lost')
    const file = screen.getByRole('listitem', { name: 'etc.tgz' })
    expect(file).toHaveTextContent('lost')
    expect(file).toHaveTextContent(`version_deleted: ${message}`)
    expect(timeline(lost).map((e) => e.title)).toEqual([
      'Run created',
      'etc.tgz stored',
      'Run stored',
      'etc.tgz lost: its recorded version is gone',
      'Run no longer stored',
    ])
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

  it('dates each event as the API recorded it, "now" only for what a pending run waits for', async () => {
    // Three files: stored with a declared checksum, stored without one, failed (dated by its
    // checked_at), and one still pending.
    const run = makeRunDetail({
      id: ids[0],
      status: 'pending',
      created_at: '2026-11-27T10:00:00Z',
      file_count: 4,
      total_bytes: 8192,
      files: [
        makeStoredFile({ id: ids[0] }, { id: 'f1', name: 'declared.bin', declared_sha256: 'cd'.repeat(32), stored_at: '2026-11-27T10:00:04Z' }),
        makeStoredFile({ id: ids[0] }, { id: 'f2', name: 'dropped.bin', declared_sha256: null, stored_at: '2026-11-27T10:00:02Z' }),
        makeStoredFile({ id: ids[0] }, { id: 'f3', name: 'broken.bin', status: 'failed', sha256: null, stored_at: null, checked_at: '2026-11-27T10:00:03Z', error: { code: 'size_mismatch', message: 'the bucket holds 10 bytes; 12 were declared' } }),
        { ...makeStoredFile({ id: ids[0] }, { id: 'f4', name: 'later.bin' }), status: 'pending', sha256: null, stored_at: null, version_id: null },
      ],
    })
    expect(timeline(run).map((e) => [e.title, e.at, e.detail])).toEqual([
      ['Run created', '2026-11-27T10:00:00Z', '4 files, 8.19 KB, type app_bundle'],
      ['dropped.bin stored', '2026-11-27T10:00:02Z', 'sha256 computed'],
      ['broken.bin failed', '2026-11-27T10:00:03Z', 'the bucket holds 10 bytes; 12 were declared'],
      ['declared.bin stored', '2026-11-27T10:00:04Z', 'sha256 verified'],
      ['Waiting for 1 file', null, 'Each file is verified after it reaches the bucket.'],
    ])
    // A server older than checked_at recorded no time for a failure: said so, never "now".
    const older = { ...run, files: run.files.map((f) => ({ ...f, checked_at: undefined })) }
    expect(timeline(older).find((e) => e.title === 'broken.bin failed')?.at).toBeNull()
    const { api } = fakeApi({ 'GET /v1/runs/:id': () => ({ body: run }) })
    renderWith(<RunDetailPage id={ids[0]} refreshMs={60_000} />, api)
    const events = within(await screen.findByRole('region', { name: 'Timeline' })).getAllByRole('listitem')
    expect(events[2]).toHaveTextContent('broken.bin failed')
    expect(events[2].querySelector('time')).toHaveAttribute('datetime', '2026-11-27T10:00:03Z')
    expect(events[2]).not.toHaveTextContent('now')
    expect(events[4]).toHaveTextContent('now')
    expect(events[1].querySelector('time')).toHaveAttribute('datetime', '2026-11-27T10:00:02Z')
  })

  it('says "verified" of a stored run only when every file declared its sha256', () => {
    const files = [makeStoredFile({ id: ids[0] }, { declared_sha256: 'cd'.repeat(32) })]
    const verified = makeRunDetail({ status: 'stored', stored_at: '2026-11-27T10:00:05Z', files })
    expect(timeline(verified).at(-1)).toMatchObject({ title: 'Run stored', detail: 'Every file is stored and its sha256 verified.' })
    const computed = { ...verified, files: [...files, makeStoredFile({ id: ids[0] }, { id: 'f9' })] }
    expect(timeline(computed).at(-1)).toMatchObject({ title: 'Run stored', detail: 'Every file is stored.' })
  })
})

describe('RunDetailPage when the run cannot be shown', () => {
  it('says the API cannot be reached, in words, with Try again', async () => {
    let calls = 0
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => {
        calls += 1
        if (calls === 1) throw new TypeError('Failed to fetch')
        return { body: makeRunDetail({ id: ids[0], label: 'back again', status: 'stored' }) }
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={ids[0]} />, api)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load this run')
    expect(alert).toHaveTextContent('Cannot reach the Inlet API at http://api.test')
    expect(document.body).not.toHaveTextContent('Something went wrong')
    await user.click(within(alert).getByRole('button', { name: 'Try again' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'back again' })).toBeInTheDocument()
  })

  it("says the browser is offline while the run waits for the connection, and the API's message otherwise", async () => {
    onlineManager.setOnline(false)
    const first = renderWith(<RunDetailPage id={ids[0]} />, fakeApi({ 'GET /v1/runs/:id': () => ({ body: makeRunDetail() }) }).api)
    expect(await screen.findByText('You are offline')).toBeInTheDocument()
    expect(screen.getByText('This run will load when you are back online.')).toBeInTheDocument()
    expect(document.body).not.toHaveTextContent('Something went wrong')
    first.unmount()
    onlineManager.setOnline(true)

    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ status: 503, body: { error: { code: 'unavailable', message: 'the database cannot be reached; try again shortly' } } }),
    })
    renderWith(<RunDetailPage id={ids[0]} />, api)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load this run')
    expect(alert).toHaveTextContent('the database cannot be reached; try again shortly')
  })

  it('keeps the run shown when a refresh fails, and says so', async () => {
    let calls = 0
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => {
        calls += 1
        if (calls > 1) throw new TypeError('Failed to fetch')
        return { body: makeRunDetail({ id: ids[0], label: 'still here' }) }
      },
    })
    renderWith(<RunDetailPage id={ids[0]} refreshMs={20} />, api)
    expect(await screen.findByRole('heading', { level: 1, name: 'still here' })).toBeInTheDocument()
    expect(await screen.findByText(/^Could not refresh: Cannot reach the Inlet API/)).toBeInTheDocument()
    expect(screen.getByRole('heading', { level: 1, name: 'still here' })).toBeInTheDocument()
  })
})

describe('Cancel run', () => {
  it('cancels a pending run after a confirm step, and shows it cancelled at once', async () => {
    let cancelled = false
    const pending = makeRunDetail({ id: ids[0], label: 'half done' })
    const { api, calls } = fakeApi({
      // Once cancelled, the run's refresh never answers: only the cancel's answer can flip it.
      'GET /v1/runs/:id': () => (cancelled ? new Promise<never>(() => {}) : { body: pending }),
      'DELETE /v1/uploads/:id': () => {
        cancelled = true
        return { body: { ...pending, files: undefined, status: 'cancelled', updated_at: '2026-11-27T10:05:00Z' } }
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={ids[0]} refreshMs={60_000} />, api)
    const button = await screen.findByRole('button', { name: 'Cancel run' })
    await user.click(button)
    expect(button).toHaveAttribute('aria-expanded', 'true')
    expect(screen.getByRole('group', { name: CONFIRM_TEXT })).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Keep' }))
    expect(screen.queryByText(CONFIRM_TEXT)).not.toBeInTheDocument()
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)

    await user.click(button)
    await user.click(screen.getByRole('button', { name: 'Confirm' }))
    expect(await screen.findByText('Run cancelled. Its partial uploads were removed from the bucket.')).toHaveFocus()
    expect(screen.getByTestId('run-status')).toHaveTextContent('cancelled')
    expect(screen.queryByRole('button', { name: 'Cancel run' })).not.toBeInTheDocument()
    expect(screen.getByText('Run cancelled', { selector: 'bdi' })).toBeInTheDocument() // the timeline's end
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/v1/uploads/${ids[0]}`])
  })

  it('says a run that stopped being pending was not cancelled, and shows what it is now', async () => {
    let run: RunDetail = makeRunDetail({ id: ids[0], label: 'raced' })
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: run }),
      'DELETE /v1/uploads/:id': () => {
        run = { ...run, status: 'stored', stored_at: '2026-11-27T10:00:09Z', files: [makeStoredFile(run)] }
        return { status: 409, body: { error: { code: 'run_not_pending', message: `run ${ids[0]} is stored; only pending runs can be cancelled` } } }
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={ids[0]} refreshMs={60_000} />, api)
    await user.click(await screen.findByRole('button', { name: 'Cancel run' }))
    await user.click(screen.getByRole('button', { name: 'Confirm' }))
    const alert = await screen.findByText(/^Not cancelled/)
    expect(alert).toHaveTextContent('Not cancelled: the run is no longer pending.')
    expect(await screen.findByTestId('run-status')).toHaveTextContent('stored')
    expect(screen.queryByRole('button', { name: 'Cancel run' })).not.toBeInTheDocument()
  })

  it('says a file of a cancelled run was not uploaded, not that it is coming', async () => {
    const { api } = fakeApi({ 'GET /v1/runs/:id': () => ({ body: makeRunDetail({ id: ids[0], status: 'cancelled' }) }) })
    renderWith(<RunDetailPage id={ids[0]} />, api)
    const file = await screen.findByRole('listitem', { name: 'etc.tgz' })
    expect(file).toHaveTextContent('not uploaded')
    expect(file).not.toHaveTextContent('pending')
    expect(file).not.toHaveTextContent('computed once the file is in the bucket')
  })

  it('says why a cancel did not reach the API, and offers it again', async () => {
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: makeRunDetail({ id: ids[0] }) }),
      'DELETE /v1/uploads/:id': () => {
        throw new TypeError('Failed to fetch')
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={ids[0]} refreshMs={60_000} />, api)
    await user.click(await screen.findByRole('button', { name: 'Cancel run' }))
    await user.click(screen.getByRole('button', { name: 'Confirm' }))
    expect(await screen.findByText(/^Not cancelled/)).toHaveTextContent('Not cancelled. Cannot reach the Inlet API at http://api.test')
    expect(screen.getByRole('button', { name: 'Cancel run' })).toBeEnabled()
  })
})
