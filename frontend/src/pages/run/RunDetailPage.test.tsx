import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { fakeApi, makeManifest, makeRunDetail } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { RunDetailPage } from './RunDetailPage'
import { timeline } from './timeline'

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
})
