// Renders a page inside the app's context and a query client that never retries.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import type { ApiClient } from '../lib/api'
import { parseConfig } from '../lib/config'
import { AppContext } from '../lib/context'

export const config = parseConfig({ apiUrl: 'http://api.test' })

export function renderWith(ui: ReactNode, api: ApiClient) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  return render(
    <AppContext.Provider value={{ config, api }}>
      <QueryClientProvider client={client}>{ui}</QueryClientProvider>
    </AppContext.Provider>,
  )
}

export const ids = ['aaaaaaaa-0000-0000-0000-000000000001', 'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-000000000003']
