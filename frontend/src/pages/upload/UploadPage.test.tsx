import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { rateText } from '../../lib/format'
import { fakeApi, fakeHasher, fakeS3, makeFile, makeRun, makeRunDetail, quietLogger } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { ResumeStore } from '../../upload/resume'
import { UploadSession } from '../../upload/session'
import type { Snapshot } from '../../upload/snapshot'
import { fakeSession, makeEntry, makeUnfinished } from './fakeSession'
import { UploadPage } from './UploadPage'

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
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({ type: 'ds_etc', label: 'nightly', notes: null })
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

  it('says when a quota refuses the upload, and when to try again', async () => {
    const { session } = page({
      'POST /v1/uploads': () => ({
        status: 429,
        body: {
          error: {
            code: 'quota_exceeded',
            message: "quota exceeded for owner 'alice': 20 runs are pending, the limit is 20; nothing was created, try again in 60 s",
            details: [{ field: 'pending_runs', message: '20 runs are pending, the limit is 20' }],
          },
        },
      }),
    })
    const user = userEvent.setup()
    await user.upload(screen.getByLabelText('Choose files'), makeFile('a.bin', 10))
    await screen.findByText(/^sha256 [0-9a-f]{64}$/)
    await user.click(screen.getByRole('button', { name: 'Upload 1 file' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Too many uploads for now')
    expect(alert).toHaveTextContent('20 runs are pending, the limit is 20; nothing was created, try again in 60 s')
    expect(alert).toHaveTextContent(/Try again later/)
    expect(session.getSnapshot().run).toBeFalsy()
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

describe('UploadPage, each state of the session', () => {
  function page(initial: Partial<Snapshot> = {}) {
    const session = fakeSession(initial)
    const { api } = fakeApi({})
    renderWith(<UploadPage session={session} />, api)
    return { session, user: userEvent.setup() }
  }
  const row = (name: string) => screen.getAllByTestId('file-row').find((r) => r.getAttribute('aria-label') === name) as HTMLElement
  const summary = () => screen.getByRole('region', { name: 'Upload summary' })

  it('shows each file on one line with its size, checksum and the action it allows', async () => {
    const { session, user } = page({
      entries: [
        makeEntry({ id: 'e1', name: 'notes 📝 été.txt', size: 2_345 }),
        makeEntry({ id: 'e2', name: 'big.bin', size: 40_000_000, hashState: 'waiting', sha256: null }),
        makeEntry({ id: 'e3', name: 'next.txt', size: 5, hashState: 'waiting', sha256: null }),
        makeEntry({ id: 'e4', name: 'now.txt', size: 5, hashState: 'hashing', hashFraction: 0.5, sha256: null }),
      ],
    })
    expect(within(row('notes 📝 été.txt')).getByText(`sha256 ${'ab'.repeat(32)}`)).toBeInTheDocument()
    expect(row('notes 📝 été.txt')).toHaveTextContent('2.35 KB')
    expect(row('big.bin')).toHaveTextContent('sha256: computed while it uploads')
    expect(row('next.txt')).toHaveTextContent('sha256: not computed yet')
    expect(row('now.txt')).toHaveTextContent('checksum 50%')
    expect(within(summary()).getByText('4 files · 40.0 MB')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Remove big.bin' }))
    expect(session.removeFile).toHaveBeenCalledWith('e2')
  })

  it('offers pause, resume and retry per file while uploading', async () => {
    const { session, user } = page({
      phase: 'uploading',
      run: makeRun({ id: 'r1' }),
      entries: [
        makeEntry({ id: 'e1', name: 'part.bin', status: 'uploading', method: 'multipart', fraction: 0.42 }),
        makeEntry({ id: 'e2', name: 'held.bin', status: 'paused', method: 'multipart' }),
        makeEntry({ id: 'e3', name: 'lost.bin', status: 'failed', method: 'PUT', error: 'The bucket refused the file.' }),
        makeEntry({ id: 'e4', name: 'small.bin', status: 'uploading', method: 'PUT' }),
      ],
    })
    expect(row('part.bin')).toHaveTextContent('42%')
    expect(within(row('lost.bin')).getByTestId('file-problem')).toHaveTextContent('The bucket refused the file.')
    expect(within(row('small.bin')).queryByRole('button')).not.toBeInTheDocument() // one PUT: nothing to pause
    expect(screen.queryByRole('button', { name: /^Remove/ })).not.toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Pause part.bin' }))
    await user.click(screen.getByRole('button', { name: 'Resume held.bin' }))
    await user.click(screen.getByRole('button', { name: 'Retry lost.bin' }))
    expect(session.pauseFile).toHaveBeenCalledWith('e1')
    expect(session.resumeFile).toHaveBeenCalledWith('e2')
    expect(session.retryFile).toHaveBeenCalledWith('e3')
  })

  it('says what is refused next to the file and in the summary, and removes the refused files', async () => {
    const { session, user } = page({
      entries: [
        makeEntry({ id: 'e1', name: 'ok.txt' }),
        makeEntry({ id: 'e2', name: 'huge.iso', size: 54_760_833_024, hashState: 'waiting', sha256: null, problem: '54.8 GB is over the 5.00 GB limit per file' }),
        makeEntry({ id: 'e3', name: 'bad\u202ename.txt', problem: 'The name holds a character the server refuses.' }),
      ],
      problems: ['3 files chosen; one run holds at most 2. Remove 1 file.'],
    })
    expect(within(row('huge.iso')).getByTestId('file-problem')).toHaveTextContent('54.8 GB is over the 5.00 GB limit per file')
    expect(within(row('huge.iso')).getByText('refused')).toBeInTheDocument()
    const bar = summary()
    expect(bar).toHaveTextContent('3 files chosen; one run holds at most 2. Remove 1 file.')
    expect(bar).toHaveTextContent('huge.iso: 54.8 GB is over the 5.00 GB limit per file (and 1 more file refused, marked in the list)')
    expect(screen.getByRole('button', { name: 'Upload 3 files' })).toBeDisabled()
    // the name is shown safely: the override character cannot reorder the text
    expect(row('bad\u202ename.txt')).toHaveTextContent('bad\ufffdname.txt')
    await user.click(within(bar).getByRole('button', { name: 'Remove 2 refused files' }))
    expect(session.removeRefused).toHaveBeenCalled()
  })

  it('a changed file says so and takes the file chosen again', async () => {
    const { session, user } = page({
      phase: 'failed',
      run: makeRun({ id: 'r1' }),
      entries: [
        makeEntry({
          id: 'e1',
          name: 'report.pdf',
          status: 'failed',
          changed: true,
          error: '«report.pdf» changed after it was chosen (it is now 12 bytes); choose it again to upload the new version.',
        }),
      ],
    })
    expect(within(row('report.pdf')).getByTestId('file-problem')).toHaveTextContent('changed after it was chosen')
    // retrying cannot help
    expect(screen.queryByRole('button', { name: 'Retry report.pdf' })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Retry failed files' })).not.toBeInTheDocument()
    const again = makeFile('report.pdf', 12)
    await user.upload(screen.getByLabelText('Choose report.pdf again'), again)
    expect(session.replaceFile).toHaveBeenCalledWith('e1', again)
  })

  it('keeps the DOM small with 1,000 files: only the rows near the view are rendered', () => {
    // jsdom has no layout: the list's box and its rows get the heights a browser gives them
    vi.spyOn(Element.prototype, 'clientHeight', 'get').mockReturnValue(400)
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(41)
    const entries = Array.from({ length: 1_000 }, (_, i) => makeEntry({ id: `e${i}`, name: `file-${i}.txt` }))
    page({ entries })
    expect(screen.getByRole('region', { name: '1000 files · 1.00 MB' })).toBeInTheDocument()
    const rows = screen.getAllByTestId('file-row')
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThan(50)
    expect(rows[0]).toHaveAttribute('aria-setsize', '1000')
    // scrolled to its end, the list shows its last files
    const box = screen.getByRole('region', { name: '1000 files · 1.00 MB' })
    box.scrollTop = 41 * 1_000 - 400
    act(() => void box.dispatchEvent(new Event('scroll')))
    expect(row('file-999.txt')).toHaveAttribute('aria-posinset', '1000')
    expect(screen.getAllByTestId('file-row').length).toBeLessThan(50)
  })

  it('up to 100 files, every row is in the page', () => {
    page({ entries: Array.from({ length: 100 }, (_, i) => makeEntry({ id: `e${i}`, name: `file-${i}.txt` })) })
    expect(screen.getAllByTestId('file-row')).toHaveLength(100)
  })

  it('offers to resume an unfinished run when the files chosen are its rest', async () => {
    const run = makeUnfinished()
    const { session, user } = page({
      unfinished: [run],
      entries: [makeEntry({ id: 'e1', name: 'b.bin' }), makeEntry({ id: 'e2', name: 'c.bin' })],
      offer: { runId: run.runId, matched: 2 },
    })
    const offer = screen.getByTestId('resume-offer')
    expect(offer).toHaveTextContent('These 2 files are the rest of run aaaaaaaa “nightly” (app_bundle).')
    expect(screen.getByRole('button', { name: 'Upload 2 files' })).toBeDisabled() // a choice first
    await user.click(within(offer).getByRole('button', { name: 'Resume it' }))
    expect(session.acceptOffer).toHaveBeenCalled()
    expect(summary().querySelector('[data-testid="upload-status"]')).toHaveFocus()
    await user.click(within(offer).getByRole('button', { name: 'Upload as a new run' }))
    expect(session.declineOffer).toHaveBeenCalled()
  })

  it('lists unfinished runs with what is left, each to resume or cancel', async () => {
    const first = makeUnfinished()
    const second = makeUnfinished({ runId: 'bbbbbbbb-0000-0000-0000-000000000002', label: null, type: 'ds_etc' })
    const { session, user } = page({ unfinished: [first, second] })
    expect(session.refreshUnfinished).toHaveBeenCalled()
    expect(screen.getByRole('heading', { name: 'Unfinished uploads' })).toBeInTheDocument()
    const items = screen.getAllByTestId('unfinished-run')
    expect(items[0]).toHaveTextContent('Run aaaaaaaa “nightly” (app_bundle)')
    expect(items[0]).toHaveTextContent('Still to send: 2 of 3 files (140 MB): b.bin, c.bin')
    expect(items[1]).toHaveTextContent('Run bbbbbbbb (ds_etc)')

    const chosen = [makeFile('b.bin', 3), makeFile('c.bin', 3)]
    await user.upload(within(items[0]).getByLabelText('Resume: choose its files (run aaaaaaaa)'), chosen)
    expect(session.resumeWith).toHaveBeenCalledWith(first.runId, chosen)
    await user.click(within(items[1]).getByRole('button', { name: 'Cancel run bbbbbbbb' }))
    expect(session.discard).toHaveBeenCalledWith(second.runId)
    // both stay offered on each run after either was used
    expect(within(items[0]).getByRole('button', { name: 'Cancel run aaaaaaaa' })).toBeEnabled()
    expect(within(items[1]).getByLabelText('Resume: choose its files (run bbbbbbbb)')).toBeEnabled()

    act(() => session.set({ phase: 'uploading' })) // another upload under way
    expect(within(items[0]).getByRole('button', { name: 'Cancel run aaaaaaaa' })).toBeDisabled()
  })

  it('says offline, paused or waiting for network instead of a stale speed', async () => {
    const uploading: Partial<Snapshot> = {
      phase: 'uploading',
      run: makeRun({ id: 'r1' }),
      entries: [makeEntry({ status: 'uploading', method: 'multipart', fraction: 0.5 })],
      overall: { total: 1_000, done: 500, fraction: 0.5, speed: 12_500_000, eta: 7, stalled: false },
    }
    const { session, user } = page(uploading)
    const status = () => screen.getByTestId('upload-status')
    expect(status()).toHaveTextContent('50% · 500 B of 1.00 KB')
    expect(status()).toHaveTextContent('12.5 MB/s · 7 s left')

    act(() => session.set({ online: false, overall: { ...uploading.overall!, speed: null, eta: null, stalled: true } }))
    expect(status()).toHaveTextContent('Offline: the upload waits and continues when the connection is back.')
    expect(status()).not.toHaveTextContent('MB/s')

    act(() => session.set({ online: true }))
    expect(status()).toHaveTextContent('waiting for network')

    await user.click(screen.getByRole('button', { name: 'Pause all' }))
    expect(session.pauseAll).toHaveBeenCalled()
    act(() => session.set({ paused: true }))
    expect(status()).toHaveTextContent('Paused.')
    await user.click(screen.getByRole('button', { name: 'Resume all' }))
    expect(session.resumeAll).toHaveBeenCalled()
  })

  it('moves the focus to the progress on Upload and to the result when it ends', async () => {
    const { session, user } = page({ entries: [makeEntry({ name: 'a.bin' })] })
    await user.type(screen.getByLabelText('Label (optional)'), 'nightly')
    await user.click(screen.getByRole('button', { name: 'Upload 1 file' }))
    expect(session.start).toHaveBeenCalledWith({ type: 'app_bundle', label: 'nightly', notes: '' })
    expect(screen.getByTestId('upload-status')).toHaveFocus()

    const run = makeRun({ id: ids[0], label: 'nightly' })
    act(() => session.set({ phase: 'uploading', run }))
    expect(screen.getByLabelText('Label (optional)')).toHaveValue('nightly')
    act(() => session.set({ phase: 'done', overall: { total: 1_000, done: 1_000, fraction: 1, speed: null, eta: null, stalled: false } }))
    const success = screen.getByText('All files are in the bucket')
    expect(success.closest('[tabindex="-1"]')).toHaveFocus()
  })

  it('moves the focus to the error when the API refuses the upload', async () => {
    const { session, user } = page({ entries: [makeEntry({ name: 'a.bin' })] })
    await user.click(screen.getByRole('button', { name: 'Upload 1 file' }))
    act(() => session.set({ phase: 'creating' }))
    act(() =>
      session.set({ phase: 'idle', error: { title: 'Too many uploads for now', message: 'Try again in 60 s.', details: [] } }),
    )
    const alert = screen.getByRole('alert')
    expect(alert).toHaveTextContent('Too many uploads for now')
    expect(alert.closest('[tabindex="-1"]')).toHaveFocus()
    expect(screen.getAllByText('Try again in 60 s.')).toHaveLength(1) // once, not twice
  })

  it('"Upload more files" starts a blank form: the next run is not mislabelled', async () => {
    const { session, user } = page({ entries: [makeEntry({ name: 'a.bin' })] })
    await user.selectOptions(screen.getByLabelText('Run type'), 'ds_etc')
    await user.type(screen.getByLabelText('Label (optional)'), 'prod SH')
    await user.type(screen.getByLabelText('Notes (optional)'), 'first batch')
    await user.click(screen.getByRole('button', { name: 'Upload 1 file' }))
    act(() => session.set({ phase: 'done', run: makeRun({ id: ids[0], type: 'ds_etc', label: 'prod SH', notes: 'first batch' }) }))
    await user.click(screen.getByRole('button', { name: 'Upload more files' }))
    expect(session.reset).toHaveBeenCalled()
    expect(screen.getByLabelText('Run type')).toHaveValue('app_bundle')
    expect(screen.getByLabelText('Label (optional)')).toHaveValue('')
    expect(screen.getByLabelText('Notes (optional)')).toHaveValue('')
    expect(screen.getByLabelText('Choose files')).toHaveFocus()
  })

  it('"Clear" forgets the files but keeps the form', async () => {
    const { session, user } = page({ entries: [makeEntry({ name: 'a.bin' })] })
    await user.type(screen.getByLabelText('Label (optional)'), 'keep me')
    await user.click(screen.getByRole('button', { name: 'Clear' }))
    expect(session.reset).toHaveBeenCalled()
    expect(screen.getByLabelText('Label (optional)')).toHaveValue('keep me')
  })
})
