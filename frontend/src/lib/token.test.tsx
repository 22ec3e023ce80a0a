import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { TokenField } from '../components/TokenField'
import { API } from '../test/fakes'
import { ApiClient } from './api'
import { parseConfig } from './config'
import { TOKEN_KEY, loadToken, saveToken } from './token'

function recordingFetch() {
  const sent: Headers[] = []
  const fetchImpl = (async (_: RequestInfo | URL, init?: RequestInit) => {
    sent.push(new Headers(init?.headers))
    return new Response('{"items": [], "next_cursor": null}', { headers: { 'Content-Type': 'application/json' } })
  }) as typeof fetch
  return { sent, fetchImpl }
}

function renderField(required: boolean) {
  const client = new QueryClient()
  return render(
    <QueryClientProvider client={client}>
      <TokenField required={required} />
    </QueryClientProvider>,
  )
}

describe('API token', () => {
  it('is sent as a Bearer token with every API call, read when the call is made', async () => {
    const { sent, fetchImpl } = recordingFetch()
    const api = new ApiClient(API, fetchImpl, loadToken)
    await api.listRuns()
    expect(sent[0].has('Authorization')).toBe(false)
    saveToken('  inlet_abc  ')
    await api.listRuns()
    expect(sent[1].get('Authorization')).toBe('Bearer inlet_abc')
    saveToken('')
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('config.json says when the API requires one', () => {
    expect(parseConfig({ apiUrl: 'http://x', authRequired: true }).authRequired).toBe(true)
    expect(parseConfig({ apiUrl: 'http://x', authRequired: 'yes' })).not.toHaveProperty('authRequired')
  })

  it('is asked for when required, saved in localStorage, and can be forgotten', async () => {
    const user = userEvent.setup()
    renderField(true)
    expect(screen.getByText(/needs a token/)).toBeInTheDocument()
    const input = screen.getByLabelText('API token')
    expect(input).toHaveAttribute('type', 'password')
    await user.type(input, 'inlet_secret')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(localStorage.getItem(TOKEN_KEY)).toBe('inlet_secret')
    expect(input).toHaveValue('')
    expect(screen.getByText('Token saved in this browser')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Forget' }))
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('stays out of the way when no token is required or saved', () => {
    const { container } = renderField(false)
    expect(container).toBeEmptyDOMElement()
  })
})
