import { act, render, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Inlet } from './App'
import { parseConfig } from './lib/config'
import { fakeApi, fakeHasher } from './test/fakes'
import { ResumeStore } from './upload/resume'
import { UploadSession } from './upload/session'

describe('the app shell', () => {
  it('routes by the URL hash, marks the current page and moves focus to its title', async () => {
    window.location.hash = ''
    const { api } = fakeApi({ 'GET /v1/runs': () => ({ body: { items: [], next_cursor: null } }) })
    const session = new UploadSession({ api, hasher: fakeHasher(), store: new ResumeStore() })
    render(<Inlet config={parseConfig({ apiUrl: 'http://api.test' })} api={api} session={session} />)
    expect(screen.getByRole('heading', { level: 1, name: 'Upload files' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Upload' })).toHaveAttribute('aria-current', 'page')

    await act(async () => {
      window.location.hash = '#/runs'
      window.dispatchEvent(new HashChangeEvent('hashchange'))
    })
    const title = await screen.findByRole('heading', { level: 1, name: 'Runs' })
    expect(screen.getByRole('link', { name: 'Runs' })).toHaveAttribute('aria-current', 'page')
    await waitFor(() => expect(title).toHaveFocus())
    expect(await screen.findByText('No runs yet.')).toBeInTheDocument()

    await act(async () => {
      window.location.hash = '#/elsewhere'
      window.dispatchEvent(new HashChangeEvent('hashchange'))
    })
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument()
    window.location.hash = ''
  })
})
