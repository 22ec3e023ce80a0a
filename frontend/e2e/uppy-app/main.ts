// An app that uploads with Uppy 5's `@uppy/aws-s3` through a Companion server, switched to Inlet
// as docs/uppy.md says: the Companion URL, a token header, and the `file-added` line; nothing
// else of Inlet's. The spec (../uppy-companion.spec.ts) bundles it with the real packages and
// passes the API and the token in the query (`?api=...&token=...`; no token: no header). With
// `?batch=1` the app first declares the files picked together as one run, and each file names it
// in its meta, as docs/uppy.md shows; `?run=<id>` names a given run instead.
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'
import { onFilesPicked, recordFailed, recordUploaded, showSetup } from './page'

const query = new URLSearchParams(location.search)
const api = query.get('api') ?? ''
const token = query.get('token')
const givenRun = query.get('run')
const batch = query.get('batch') === '1'

const uppy = new Uppy().use(AwsS3, {
  endpoint: `${api}/v1/companion`,
  headers: token ? { authorization: `Bearer ${token}` } : {},
  shouldUseMultipart: (file) => (file.size ?? 0) > 16 * 1024 * 1024,
})

// Inlet signs exact sizes, and Uppy does not send them: one line gives each file its size.
uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }))
/** A run of `files` declared with the token: every file Uppy sends joins it. */
async function declareRun(files: File[]): Promise<string> {
  const answer = await fetch(`${api}/v1/companion/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ files: files.map((file) => ({ name: file.name, size: file.size })) }),
  })
  const declared = (await answer.json()) as { run: { id: string } }
  return declared.run.id
}

uppy.on('upload-success', (file, response) => {
  if (file) recordUploaded(file.name, String(response.body?.key))
})
uppy.on('upload-error', (file, error) => {
  if (file) recordFailed(file.name, error)
})

const into = givenRun ? `, into run ${givenRun}` : batch ? ', a run per batch' : ''
showSetup(`Companion URL ${api}/v1/companion, ${token ? 'with' : 'without'} a token${into}`)
onFilesPicked(async (files) => {
  const runId = givenRun ?? (batch ? await declareRun(files) : null)
  if (runId) uppy.setMeta({ runId })
  uppy.addFiles(files.map((data) => ({ name: data.name, type: data.type, data, source: 'file input' })))
  await uppy.upload()
})
