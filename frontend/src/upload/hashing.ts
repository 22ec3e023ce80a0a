// SHA-256 of a Blob of any size with memory that does not grow with it: read it in slices
// and feed them to a streaming WebAssembly hasher, reading the next slice while hashing this one.
// Runs inside a Web Worker in the page (hash.worker.ts), so a 2 GB file never freezes the UI.

import { createSHA256 } from 'hash-wasm'

export const HASH_CHUNK = 8 * 1024 * 1024

export async function sha256OfBlob(
  blob: Blob,
  onProgress?: (bytesHashed: number) => void,
  chunkSize = HASH_CHUNK,
): Promise<string> {
  const hasher = await createSHA256()
  hasher.init()
  const read = (start: number) => blob.slice(start, Math.min(blob.size, start + chunkSize)).arrayBuffer()
  let offset = 0
  let next: Promise<ArrayBuffer> | null = blob.size > 0 ? read(0) : null
  while (next) {
    const buffer = await next
    offset += buffer.byteLength
    next = offset < blob.size ? read(offset) : null
    hasher.update(new Uint8Array(buffer))
    onProgress?.(offset)
  }
  return hasher.digest('hex')
}
