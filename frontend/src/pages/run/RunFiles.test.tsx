import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { ManifestEntry, RunDetail } from '../../lib/types'
import { fakeApi, makeManifest, makeRunDetail, makeStoredFile } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { AUTO_LOAD_ENTRIES, MANIFEST_PAGE } from './FileContents'
import { SHOW_STEP } from './ManifestTree'
import { RunDetailPage } from './RunDetailPage'

const runId = ids[0]
const archive = makeStoredFile({ id: runId })
const notes = makeStoredFile({ id: runId }, { id: 'f0000000-0000-0000-0000-00000000000b', name: 'notes.txt', content_type: 'text/plain' })
const storedRun = (files = [archive]): RunDetail =>
  makeRunDetail({ id: runId, status: 'stored', stored_at: '2026-11-27T10:00:05Z', file_count: files.length, files })

const file = (path: string, size = 10, sha256 = 'ef'.repeat(32)): ManifestEntry => ({ path, kind: 'file', size_bytes: size, sha256 })
const dir = (path: string): ManifestEntry => ({ path, kind: 'dir', size_bytes: 0, sha256: null })

const fileRow = (name: string) => screen.getByRole('listitem', { name })

/** Records the links the page follows (jsdom cannot navigate). */
function followedLinks(): string[] {
  const followed: string[] = []
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    followed.push(this.href)
  })
  return followed
}

/** Answers GET .../manifest by pages of `entries`, the cursor being the offset. */
function pagedManifest(entries: ManifestEntry[]) {
  return ({ query }: { query: URLSearchParams }) => {
    const start = Number(query.get('cursor') ?? 0)
    const limit = Number(query.get('limit') ?? 200)
    const end = Math.min(entries.length, start + limit)
    const counts = makeManifest({ entries })
    return { body: { ...counts, entries: entries.slice(start, end), next_cursor: end < entries.length ? String(end) : null } }
  }
}

describe('downloads', () => {
  const link = {
    url: 'http://s3.test/inlet-uploads/runs/r/f/etc.tgz?versionId=v1&X-Amz-Signature=abc',
    expires_at: '2026-11-27T10:05:00Z',
    name: 'etc.tgz',
    version_id: 'v1',
    sha256: archive.sha256,
    size_bytes: archive.size_bytes,
  }

  it('asks for a fresh link at each click, by mouse or keyboard, and follows it', async () => {
    const followed = followedLinks()
    const { api, calls } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun([notes]) }),
      'GET /v1/runs/:id/files/:fid/download': () => ({ body: link }),
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={runId} />, api)
    const button = await screen.findByRole('button', { name: 'Download notes.txt' })
    await user.click(button)
    await waitFor(() => expect(followed).toEqual([link.url]))
    button.focus()
    await user.keyboard('{Enter}')
    await waitFor(() => expect(followed).toEqual([link.url, link.url]))
    const asked = calls.filter((c) => c.path.endsWith('/download')).map((c) => c.path)
    expect(asked).toEqual(Array(2).fill(`/v1/runs/${runId}/files/${notes.id}/download`))
    expect(document.querySelectorAll('a[rel="noopener noreferrer"][hidden]')).toHaveLength(0) // the link is gone again
    expect(screen.queryByTestId('download-error')).toBeNull()
    expect(screen.queryByTestId('file-contents')).toBeNull() // not an archive: no contents, not asked
    expect(calls.some((c) => c.path.endsWith('/manifest'))).toBe(false)
  })

  it('is offered for stored files only', async () => {
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({
        body: makeRunDetail({
          id: runId,
          status: 'failed',
          file_count: 3,
          files: [
            notes,
            { ...archive, id: 'p', name: 'pending.bin', status: 'pending', sha256: null },
            { ...archive, id: 'l', name: 'lost.tgz', status: 'lost' },
          ],
        }),
      }),
    })
    renderWith(<RunDetailPage id={runId} />, api)
    expect(await screen.findByRole('button', { name: 'Download notes.txt' })).toBeEnabled()
    expect(screen.getAllByTestId('download-file')).toHaveLength(1)
    expect(screen.queryByTestId('file-contents')).toBeNull() // a lost archive is not listed either
  })

  it.each([
    ['file_lost', 409, 'Not downloadable: its recorded version is no longer in the bucket.'],
    ['file_pending', 409, 'Not downloadable yet: the file is not stored.'],
    ['file_failed', 409, 'Not downloadable: the file failed verification.'],
    ['not_found', 404, 'Not downloadable: the run or the file is gone.'],
  ])('says in words why the API refused (%s) next to the file, and loads the run again', async (code, status, lead) => {
    const followed = followedLinks()
    let runCalls = 0
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => {
        runCalls += 1
        return { body: storedRun([notes]) }
      },
      'GET /v1/runs/:id/files/:fid/download': () => ({ status, body: { error: { code, message: `the API says ${code}` } } }),
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={runId} />, api)
    await user.click(await screen.findByRole('button', { name: 'Download notes.txt' }))
    const alert = await within(fileRow('notes.txt')).findByRole('alert')
    expect(alert).toHaveTextContent(`${lead} the API says ${code}`)
    await waitFor(() => expect(runCalls).toBe(2))
    expect(followed).toEqual([])
  })

  it('says when the API cannot be reached, and a later click works', async () => {
    const followed = followedLinks()
    let down = true
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun([notes]) }),
      'GET /v1/runs/:id/files/:fid/download': () => {
        if (down) throw new TypeError('Failed to fetch')
        return { body: link }
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={runId} />, api)
    await user.click(await screen.findByRole('button', { name: 'Download notes.txt' }))
    expect(await screen.findByTestId('download-error')).toHaveTextContent(
      'Could not ask for a download link. Cannot reach the Inlet API at http://api.test',
    )
    down = false
    await user.click(screen.getByRole('button', { name: 'Download notes.txt' }))
    await waitFor(() => expect(followed).toEqual([link.url]))
    expect(screen.queryByTestId('download-error')).toBeNull()
  })
})

describe('archive contents', () => {
  const entries = [
    dir('etc/'),
    file('etc/hosts', 1200, 'aa'.repeat(32)),
    dir('etc/ssh/'),
    file('etc/ssh/sshd_config', 3400, 'bb'.repeat(32)),
    file('etc/🎉 party/naïve.conf', 5, 'cc'.repeat(32)),
  ]

  it('refreshes a pending manifest until it is done, then shows counts and a tree to open and close', async () => {
    let manifestCalls = 0
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun([archive, notes]) }),
      'GET /v1/runs/:id/files/:fid/manifest': () => {
        manifestCalls += 1
        return { body: manifestCalls < 3 ? makeManifest({ status: 'pending' }) : makeManifest({ entries }) }
      },
    })
    const user = userEvent.setup()
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    renderWith(<RunDetailPage id={runId} refreshMs={20} />, api)
    const contents = await screen.findByRole('region', { name: 'Contents of etc.tgz' })
    expect(await within(contents).findByTestId('manifest-pending')).toHaveTextContent("Listing the archive's entries")
    const tree = await within(contents).findByRole('list', { name: 'Entries of etc.tgz' })
    expect(manifestCalls).toBe(3)
    expect(within(contents).getByTestId('manifest-counts')).toHaveTextContent(
      '5 entries: 3 files, 2 folders, 4.61 KB unpacked · tar.gz',
    )
    // etc/ is the lone top folder: open; its folders closed, so their files are not rendered.
    const etc = within(tree).getByRole('button', { name: 'etc/ 3 files · 4.61 KB' })
    expect(etc).toHaveAttribute('aria-expanded', 'true')
    const ssh = within(tree).getByRole('button', { name: 'ssh/ 1 file · 3.40 KB' })
    expect(ssh).toHaveAttribute('aria-expanded', 'false')
    expect(within(tree).getByRole('button', { name: '🎉 party/ 1 file · 5 B' })).toBeInTheDocument()
    expect(within(tree).getAllByTestId('manifest-file').map((li) => li.dataset.path)).toEqual(['etc/hosts'])
    expect(within(tree).getByText('1.20 KB')).toBeInTheDocument()

    await user.click(ssh)
    expect(ssh).toHaveAttribute('aria-expanded', 'true')
    expect(within(tree).getAllByTestId('manifest-file').map((li) => li.dataset.path)).toEqual(['etc/ssh/sshd_config', 'etc/hosts'])
    await user.click(within(tree).getByRole('button', { name: 'Copy the sha256 of etc/ssh/sshd_config' }))
    expect(writeText).toHaveBeenCalledWith('bb'.repeat(32))

    etc.focus()
    await user.keyboard('{Enter}') // closes etc/, and everything in it leaves the page
    expect(etc).toHaveAttribute('aria-expanded', 'false')
    expect(within(tree).queryAllByTestId('manifest-file')).toHaveLength(0)
    expect(within(tree).getAllByTestId('manifest-dir')).toHaveLength(1)
    await user.keyboard(' ') // and Space opens it again, ssh/ still open
    expect(within(tree).getAllByTestId('manifest-file')).toHaveLength(2)
    expect(screen.queryByRole('region', { name: 'Contents of notes.txt' })).toBeNull()
  })

  it('shows why a hostile archive could not be listed, the file still stored', async () => {
    const message = 'entry ../../etc/passwd leaves the archive'
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun() }),
      'GET /v1/runs/:id/files/:fid/manifest': () => ({
        body: makeManifest({ status: 'failed', error: { code: 'path_traversal', message } }),
      }),
    })
    renderWith(<RunDetailPage id={runId} refreshMs={20} />, api)
    const contents = await screen.findByRole('region', { name: 'Contents of etc.tgz' })
    const alert = await within(contents).findByRole('alert')
    expect(alert).toHaveTextContent('The archive could not be listed')
    expect(within(alert).getByTestId('manifest-error')).toHaveTextContent(`path_traversal: ${message}`)
    expect(within(fileRow('etc.tgz')).getByRole('button', { name: 'Download etc.tgz' })).toBeEnabled()
    expect(within(contents).queryByRole('list')).toBeNull()
  })

  it('says when the server lists no contents for a file, and when the manifest cannot be loaded', async () => {
    const zip = { ...archive, id: 'z', name: 'odd.zip' }
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun([archive, zip]) }),
      'GET /v1/runs/:id/files/:fid/manifest': ({ path }) =>
        path.includes('/z/')
          ? { status: 404, body: { error: { code: 'no_manifest', message: 'not an archive' } } }
          : { status: 503, body: { error: { code: 'unavailable', message: 'the database is unreachable' } } },
    })
    renderWith(<RunDetailPage id={runId} />, api)
    const odd = await screen.findByRole('region', { name: 'Contents of odd.zip' })
    expect(await within(odd).findByText(/does not list the contents of this file/)).toBeInTheDocument()
    const etc = screen.getByRole('region', { name: 'Contents of etc.tgz' })
    expect(await within(etc).findByRole('alert')).toHaveTextContent(/^Could not load the contents\s*the database is unreachable$/)
  })

  it('fetches the pages of a large manifest one after another, in archive order', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => file(`d${Math.floor(i / 100)}/f${i}`))
    const { api, calls } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun() }),
      'GET /v1/runs/:id/files/:fid/manifest': pagedManifest(many),
    })
    renderWith(<RunDetailPage id={runId} />, api)
    const contents = await screen.findByRole('region', { name: 'Contents of etc.tgz' })
    await waitFor(() => expect(within(contents).getAllByTestId('manifest-dir')).toHaveLength(25))
    await waitFor(() => expect(within(contents).getByRole('button', { name: /^d24\/ 100 files/ })).toBeInTheDocument())
    const asked = calls.filter((c) => c.path.endsWith('/manifest'))
    expect(asked).toHaveLength(3)
    expect(within(contents).getByTestId('manifest-counts')).toHaveTextContent('2,500 entries: 2,500 files, 0 folders')
    expect(within(contents).getByTestId('manifest-counts')).not.toHaveTextContent('showing the first')
    expect(within(contents).queryByRole('button', { name: 'Load more entries' })).toBeNull()
  })

  // Role queries walk the whole accessibility tree, slow in jsdom for thousands of rows: these
  // two find buttons by their text.
  const button = (root: HTMLElement, text: string | RegExp) => within(root).getByText(text, { selector: 'button' })

  it('stops paging by itself at 10,000 entries, renders only open folders, and loads more on request', async () => {
    const total = AUTO_LOAD_ENTRIES + MANIFEST_PAGE + 500
    const many = Array.from({ length: total }, (_, i) => file(`dir-${String(Math.floor(i / 100)).padStart(3, '0')}/f${i}`))
    const cursors: (string | null)[] = []
    const pages = pagedManifest(many)
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun() }),
      'GET /v1/runs/:id/files/:fid/manifest': (call) => {
        cursors.push(call.query.get('cursor'))
        expect(call.query.get('limit')).toBe(String(MANIFEST_PAGE))
        return pages(call)
      },
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={runId} />, api)
    const contents = await screen.findByTestId('file-contents')
    await waitFor(() => button(contents, 'Load more entries'), { timeout: 10_000 })
    expect(cursors).toEqual([null, ...Array.from({ length: 9 }, (_, i) => String((i + 1) * MANIFEST_PAGE))])
    const counts = within(contents).getByTestId('manifest-counts')
    expect(counts).toHaveTextContent('11,500 entries')
    expect(counts).toHaveTextContent('showing the first 10,000')
    // 100 closed folders: one row each, none of their 10,000 files rendered.
    expect(within(contents).getAllByTestId('manifest-dir')).toHaveLength(100)
    expect(within(contents).queryAllByTestId('manifest-file')).toHaveLength(0)
    await user.click(within(contents).getByText('dir-042'))
    expect(within(contents).getAllByTestId('manifest-file')).toHaveLength(100)

    await user.click(button(contents, 'Load more entries'))
    await waitFor(() => expect(within(contents).getAllByTestId('manifest-dir')).toHaveLength(110))
    await user.click(button(contents, 'Load more entries'))
    await waitFor(() => expect(within(contents).getAllByTestId('manifest-dir')).toHaveLength(115))
    expect(within(contents).queryByText('Load more entries')).toBeNull()
    expect(counts).not.toHaveTextContent('showing the first')
    expect(cursors.slice(10)).toEqual(['10000', '11000'])
  }, 30_000)

  it(`shows ${SHOW_STEP} rows of a folder at a time`, async () => {
    const flat = Array.from({ length: SHOW_STEP + 200 }, (_, i) => file(`f${String(i).padStart(4, '0')}`))
    const { api } = fakeApi({
      'GET /v1/runs/:id': () => ({ body: storedRun() }),
      'GET /v1/runs/:id/files/:fid/manifest': pagedManifest(flat),
    })
    const user = userEvent.setup()
    renderWith(<RunDetailPage id={runId} />, api)
    const contents = await screen.findByTestId('file-contents')
    await waitFor(() => expect(within(contents).getByTestId('manifest-counts')).toHaveTextContent('700 entries'), { timeout: 10_000 })
    expect(within(contents).getAllByTestId('manifest-file')).toHaveLength(SHOW_STEP)
    const more = button(contents, /^Show 200 more/)
    expect(more).toHaveTextContent('Show 200 more (200 not shown in the top folder)')
    await user.click(more)
    const rows = within(contents).getAllByTestId('manifest-file')
    expect(rows).toHaveLength(700)
    expect(rows.at(-1)?.dataset.path).toBe('f0699')
    expect(within(contents).queryByText(/^Show \d+ more/)).toBeNull()
  }, 30_000)
})
