// The API token (docs/security.md), kept in this browser's localStorage and sent to the Inlet
// API only, as `Authorization: Bearer` (never to the bucket: presigned URLs carry their own).
export const TOKEN_KEY = 'inlet.apiToken'

export function loadToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY) || null
  } catch {
    return null // storage disabled: work without a token
  }
}

/** Store a token; an empty one forgets it. */
export function saveToken(token: string): void {
  const trimmed = token.trim()
  if (trimmed) localStorage.setItem(TOKEN_KEY, trimmed)
  else localStorage.removeItem(TOKEN_KEY)
}
