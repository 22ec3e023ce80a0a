// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../test/fakes'
import { sha256OfBlob } from './hashing'

function bytes(size: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(new ArrayBuffer(size))
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) % 256
  return data
}

describe('sha256OfBlob', () => {
  it('matches the reference for sizes around the chunk size', async () => {
    const chunk = 1024
    for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 17]) {
      const data = bytes(size)
      expect(await sha256OfBlob(new Blob([data]), undefined, chunk)).toBe(sha256Hex(data))
    }
  })

  it('knows the empty digest', async () => {
    expect(await sha256OfBlob(new Blob([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })

  it('reports progress that only grows and ends at the size', async () => {
    const data = bytes(10_000)
    const seen: number[] = []
    await sha256OfBlob(new Blob([data]), (n) => seen.push(n), 3000)
    expect(seen).toEqual([3000, 6000, 9000, 10_000])
  })

  it('hashes a multi-chunk file in default-size chunks', async () => {
    const data = bytes(20 * 1024 * 1024 + 3)
    expect(await sha256OfBlob(new Blob([data]))).toBe(sha256Hex(data))
  })
})
