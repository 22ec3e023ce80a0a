import { describe, expect, it } from 'vitest'
import type { HashReply, HashRequest } from './hash.worker'
import { isFileChanged } from './errors'
import { WorkerHasher } from './hasher'

/** A stand-in for the worker: answers each request with progress, then a digest named after the blob size. */
class FakeWorker extends EventTarget {
  terminated = false
  held: HashRequest[] = []
  readonly hold: boolean
  constructor(hold = false) {
    super()
    this.hold = hold
  }
  postMessage(request: HashRequest) {
    if (this.hold) {
      this.held.push(request)
      return
    }
    queueMicrotask(() => this.answer(request))
  }
  answer(request: HashRequest) {
    const reply = (data: HashReply) => this.dispatchEvent(new MessageEvent('message', { data }))
    reply({ id: request.id, type: 'progress', bytes: request.file.size / 2 })
    if (request.file.size === 13) reply({ id: request.id, type: 'error', message: 'unlucky' })
    else if (request.file.size === 14) reply({ id: request.id, type: 'error', message: 'could not be read', name: 'NotReadableError' })
    else reply({ id: request.id, type: 'done', sha256: `digest-${request.file.size}` })
  }
  terminate() {
    this.terminated = true
  }
}

describe('WorkerHasher', () => {
  it('hashes files one after the other in one worker, with progress', async () => {
    const workers: FakeWorker[] = []
    const hasher = new WorkerHasher(() => {
      const w = new FakeWorker()
      workers.push(w)
      return w as unknown as Worker
    })
    const progress: number[] = []
    const [a, b] = await Promise.all([
      hasher.hash(new Blob(['x'.repeat(10)]), (n) => progress.push(n)),
      hasher.hash(new Blob(['x'.repeat(20)]), (n) => progress.push(n)),
    ])
    expect([a, b]).toEqual(['digest-10', 'digest-20'])
    expect(progress).toEqual([5, 10])
    expect(workers).toHaveLength(1)
  })

  it('passes errors on', async () => {
    const hasher = new WorkerHasher(() => new FakeWorker() as unknown as Worker)
    await expect(hasher.hash(new Blob(['x'.repeat(13)]), () => undefined)).rejects.toThrow(/unlucky/)
  })

  it("keeps the error's name: a file changed on disk says so (NotReadableError)", async () => {
    const hasher = new WorkerHasher(() => new FakeWorker() as unknown as Worker)
    const error = await hasher.hash(new Blob(['x'.repeat(14)]), () => undefined).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'NotReadableError', message: 'could not compute the sha256: could not be read' })
    expect(isFileChanged(error)).toBe(true)
  })

  it('cancelling a job terminates its worker; the next job gets a new one', async () => {
    const workers: FakeWorker[] = []
    const hasher = new WorkerHasher(() => {
      const w = new FakeWorker(workers.length === 0)
      workers.push(w)
      return w as unknown as Worker
    })
    const controller = new AbortController()
    const job = hasher.hash(new Blob(['abc']), () => undefined, controller.signal)
    await Promise.resolve()
    await Promise.resolve()
    controller.abort()
    await expect(job).rejects.toThrow(/cancelled/)
    expect(workers[0].terminated).toBe(true)
    expect(await hasher.hash(new Blob(['abcd']), () => undefined)).toBe('digest-4')
    expect(workers).toHaveLength(2)
  })
})
