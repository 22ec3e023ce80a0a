// An app that uploads with Uppy 6's `@uppy/aws-s3` through a Companion server, switched to Inlet
// with nothing but its Companion endpoint (`?endpoint=...`): Inlet's run endpoint, which the
// app's backend got from `POST /v1/companion/runs` (docs/uppy.md). Uppy 6 sends no header of the
// app's, so no token, and no size either: the run declared each file's. Its packages are this
// folder's own (package.json); ../uppy6-companion.spec.ts bundles it.
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'
import { onFilesPicked, recordFailed, recordUploaded, showSetup } from '../uppy-app/page'

const companionEndpoint = new URLSearchParams(location.search).get('endpoint') ?? ''

const uppy = new Uppy().use(AwsS3, {
  companionEndpoint,
  // Uppy 6 goes multipart over 100 MB; the spec's 40 MB file goes in parts with this.
  shouldUseMultipart: (file) => (file.size ?? 0) > 16 * 1024 * 1024,
})

uppy.on('upload-success', (file, response) => {
  if (file) recordUploaded(file.name, String(response.body?.key))
})
uppy.on('upload-error', (file, error) => {
  if (file) recordFailed(file.name, error)
})

showSetup(`Companion endpoint ${companionEndpoint}`)
onFilesPicked((files) => {
  uppy.addFiles(files.map((data) => ({ name: data.name, type: data.type, data, source: 'file input' })))
  void uppy.upload()
})
