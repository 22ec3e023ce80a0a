import { createContext, useContext } from 'react'
import type { ApiClient } from './api'
import type { InletConfig } from './config'

export interface AppContextValue {
  config: InletConfig
  api: ApiClient
}

export const AppContext = createContext<AppContextValue | null>(null)

export function useApp(): AppContextValue {
  const value = useContext(AppContext)
  if (!value) throw new Error('useApp() outside <AppContext.Provider>')
  return value
}
