import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { rateText } from '../../lib/format'
import { fakeApi, fakeHasher, fakeS3, makeFile, makeRun, makeRunDetail, quietLogger } from '../../test/fakes'
import { ids, renderWith } from '../../test/render'
import { ResumeStore } from '../../upload/resume'
import { UploadSession } from '../../upload/session'
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
