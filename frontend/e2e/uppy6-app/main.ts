// An app that uploads with Uppy 6's `@uppy/aws-s3` through a Companion server, switched to Inlet
// as docs/uppy.md shows. Uppy 6 sends no header of the app's, so no token: when the user picks
// files, the app asks its backend (`?backend=<url>`), which holds the token, to declare them as a
// run (`POST /v1/companion/runs`), and points Uppy at the run's endpoint on the API (`?api=`).
// No size line either: the run declared each file's. `?endpoint=<url>` skips the backend, for
// the specs' wrong endpoints. Its packages are this folder's own (package.json);
// ../uppy6-companion.spec.ts bundles it.
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'
import { onFilesPicked, recordFailed, recordUploaded, showSetup } from '../uppy-app/page'

const query = new URLSearchParams(location.search)
const api = query.get('api') ?? ''
const backend = query.get('backend') ?? ''
const fixedEndpoint = query.get('endpoint')

/** The Companion endpoint of a run of `files`, declared by the app's backend. */
async function declaredEndpoint(files: File[]): Promise<string> {
  const answer = await fetch(backend, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(files.map((file) => ({ name: file.name, size: file.size }))),
  })
  const { companion_endpoint } = (await answer.json()) as { companion_endpoint: string }
  return `${api}${companion_endpoint}`
}

showSetup(fixedEndpoint ? `Companion endpoint ${fixedEndpoint}` : `runs declared by ${backend}`)
onFilesPicked(async (files) => {
  const companionEndpoint = fixedEndpoint ?? (await declaredEndpoint(files))
  // One Uppy per run: the plugin reads its endpoint when it is installed.
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
  uppy.addFiles(files.map((data) => ({ name: data.name, type: data.type, data, source: 'file input' })))
  await uppy.upload()
})
