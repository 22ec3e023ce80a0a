/// <reference lib="webworker" />
// Hashes one file per message: {id, file} -> progress messages, then {done, sha256} or {error}.
import { sha256OfBlob } from './hashing'

export type HashRequest = { id: number; file: Blob }
export type HashReply =
  | { id: number; type: 'progress'; bytes: number }
  | { id: number; type: 'done'; sha256: string }
  /** `name`: the error's, so the page can tell a file changed on disk (NotReadableError). */
  | { id: number; type: 'error'; message: string; name?: string }

const scope = self as unknown as DedicatedWorkerGlobalScope

scope.onmessage = async (event: MessageEvent<HashRequest>) => {
  const { id, file } = event.data
  try {
    let lastPost = 0
    const sha256 = await sha256OfBlob(file, (bytes) => {
      const now = performance.now()
      if (now - lastPost > 100 || bytes === file.size) {
        lastPost = now
        scope.postMessage({ id, type: 'progress', bytes } satisfies HashReply)
      }
    })
    scope.postMessage({ id, type: 'done', sha256 } satisfies HashReply)
  } catch (err) {
    const { message = String(err), name } = (err ?? {}) as { message?: string; name?: string }
    scope.postMessage({ id, type: 'error', message, name } satisfies HashReply)
  }
}
