// An app that uploads with Uppy 5's `@uppy/aws-s3` through a Companion server, switched to Inlet
// as docs/uppy.md says: the Companion URL, a token header, and the `file-added` line; nothing
// else of Inlet's. The spec (../uppy-companion.spec.ts) bundles it with the real packages and
// passes the API and the token in the query (`?api=...&token=...`; no token: no header).
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'

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

const query = new URLSearchParams(location.search)
const api = query.get('api') ?? ''
const token = query.get('token')

const uppy = new Uppy().use(AwsS3, {
  endpoint: `${api}/v1/companion`,
  headers: token ? { authorization: `Bearer ${token}` } : {},
  shouldUseMultipart: (file) => (file.size ?? 0) > 16 * 1024 * 1024,
})

// Inlet signs exact sizes, and Uppy does not send them: one line gives each file its size.
uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }))

const state: UppyAppState = { uploaded: {}, failed: {} }
window.uppyApp = state
const outcomes = document.getElementById('outcomes') as HTMLUListElement

function show(text: string): void {
  const item = document.createElement('li')
  item.textContent = text
  outcomes.append(item)
}

uppy.on('upload-success', (file, response) => {
  if (!file) return
  const key = String(response.body?.key)
  state.uploaded[file.name] = key
  show(`✅ ${file.name}: uploaded, run ${key.split('/')[1]}`)
})

uppy.on('upload-error', (file, error) => {
  if (!file) return
  state.failed[file.name] = { message: error.message, isAuthError: 'isAuthError' in error && error.isAuthError === true }
  show(`❌ ${file.name}: ${error.message}`)
})

document.getElementById('setup')!.textContent = `Companion URL ${api}/v1/companion, ${token ? 'with' : 'without'} a token`

const input = document.getElementById('files') as HTMLInputElement
input.addEventListener('change', () => {
  const files = [...(input.files ?? [])]
  uppy.addFiles(files.map((data) => ({ name: data.name, type: data.type, data, source: 'file input' })))
  void uppy.upload()
})
