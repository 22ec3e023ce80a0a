// Hashing files off the main thread, one at a time (hashing is disk- and CPU-bound; running
// several at once only makes each slower). Cancelling a job terminates its worker.

import type { HashReply } from './hash.worker'

export interface Hasher {
  hash(file: Blob, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<string>
}

type WorkerFactory = () => Worker

const defaultWorker: WorkerFactory = () =>
  new Worker(new URL('./hash.worker.ts', import.meta.url), { type: 'module', name: 'inlet-sha256' })

export class WorkerHasher implements Hasher {
  readonly #makeWorker: WorkerFactory
  #worker: Worker | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #nextId = 1

  constructor(makeWorker: WorkerFactory = defaultWorker) {
    this.#makeWorker = makeWorker
  }

  hash(file: Blob, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<string> {
    const job = this.#queue.then(() => this.#run(file, onProgress, signal))
    this.#queue = job.catch(() => undefined)
    return job
  }

  #run(file: Blob, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) return Promise.reject(abortError())
    const worker = (this.#worker ??= this.#makeWorker())
    const id = this.#nextId++
    return new Promise<string>((resolve, reject) => {
      const cleanup = () => {
        worker.removeEventListener('message', onMessage)
        worker.removeEventListener('error', onError)
        signal?.removeEventListener('abort', onAbort)
      }
      const onMessage = (event: MessageEvent<HashReply>) => {
        const reply = event.data
        if (reply.id !== id) return
        if (reply.type === 'progress') onProgress(reply.bytes)
        else if (reply.type === 'done') {
          cleanup()
          resolve(reply.sha256)
        } else {
          cleanup()
          const error = new Error(`could not compute the sha256: ${reply.message}`)
          if (reply.name) error.name = reply.name
          reject(error)
        }
      }
      const onError = (event: ErrorEvent) => {
        cleanup()
        this.#drop(worker)
        reject(new Error(`the hashing worker failed: ${event.message || 'unknown error'}`))
      }
      const onAbort = () => {
        cleanup()
        this.#drop(worker)
        reject(abortError())
      }
      worker.addEventListener('message', onMessage)
      worker.addEventListener('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
      worker.postMessage({ id, file })
    })
  }

  #drop(worker: Worker) {
    worker.terminate()
    if (this.#worker === worker) this.#worker = null
  }
}

function abortError(): DOMException {
  return new DOMException('hashing was cancelled', 'AbortError')
}
