// An app that uploads with Uppy 5's `@uppy/aws-s3` through a Companion server, switched to Inlet
// as docs/uppy.md says: the Companion URL, a token header, and the `file-added` line; nothing
// else of Inlet's. The spec (../uppy-companion.spec.ts) bundles it with the real packages and
// passes the API and the token in the query (`?api=...&token=...`; no token: no header), and
// `run=<id>` for an app that uploads into a run its backend declared (docs/uppy.md's one line).
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'
import { onFilesPicked, recordFailed, recordUploaded, showSetup } from './page'

const query = new URLSearchParams(location.search)
const api = query.get('api') ?? ''
const token = query.get('token')
const runId = query.get('run')

const uppy = new Uppy().use(AwsS3, {
  endpoint: `${api}/v1/companion`,
  headers: token ? { authorization: `Bearer ${token}` } : {},
  shouldUseMultipart: (file) => (file.size ?? 0) > 16 * 1024 * 1024,
})

// Inlet signs exact sizes, and Uppy does not send them: one line gives each file its size.
uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }))
// The files go into this run, declared with their names and sizes by the app's backend.
if (runId) uppy.setMeta({ runId })

uppy.on('upload-success', (file, response) => {
  if (file) recordUploaded(file.name, String(response.body?.key))
})
uppy.on('upload-error', (file, error) => {
  if (file) recordFailed(file.name, error)
})

showSetup(`Companion URL ${api}/v1/companion, ${token ? 'with' : 'without'} a token${runId ? `, into run ${runId}` : ''}`)
onFilesPicked((files) => {
  uppy.addFiles(files.map((data) => ({ name: data.name, type: data.type, data, source: 'file input' })))
  void uppy.upload()
})
