// The fixture apps' page, whatever their Uppy (uppy-app/ has Uppy 5, ../uppy6-app/ Uppy 6): the
// outcome of each file, shown in the list and kept in `window.uppyApp` for the specs to read,
// and the files the user picks. Nothing here knows Uppy or Inlet.

/** What happened to each file, for the spec to read (`window.uppyApp`). */
export interface UppyAppState {
  /** The key Inlet gave each uploaded file (`runs/<run id>/<file id>/<name>`), by file name. */
  uploaded: Record<string, string>
  /** What Uppy reported for each file it could not upload, by file name. */
  failed: Record<string, { message: string; isAuthError: boolean }>
}

declare global {
  interface Window {
    uppyApp: UppyAppState
  }
}

const state: UppyAppState = { uploaded: {}, failed: {} }
window.uppyApp = state
const outcomes = document.getElementById('outcomes') as HTMLUListElement

function show(text: string): void {
  const item = document.createElement('li')
  item.textContent = text
  outcomes.append(item)
}

/** What the app was configured with, in words. */
export function showSetup(text: string): void {
  document.getElementById('setup')!.textContent = text
}

export function recordUploaded(name: string, key: string): void {
  state.uploaded[name] = key
  show(`✅ ${name}: uploaded, run ${key.split('/')[1]}`)
}

/** Uppy 5 marks a 401 as an authentication error (`isAuthError`); Uppy 6 has no such flag. */
export function recordFailed(name: string, error: Error): void {
  state.failed[name] = { message: error.message, isAuthError: 'isAuthError' in error && error.isAuthError === true }
  show(`❌ ${name}: ${error.message}`)
}

/** Calls `upload` with the files picked together, each time the user picks some. */
export function onFilesPicked(upload: (files: File[]) => unknown): void {
  const input = document.getElementById('files') as HTMLInputElement
  input.addEventListener('change', () => void upload([...(input.files ?? [])]))
}
