import { describe, expect, it, vi } from 'vitest'
import type { SignedPart } from '../lib/types'
import { PartSigner } from './signer'

const NOW = Date.parse('2026-11-27T10:00:00Z')
const later = (seconds: number) => new Date(NOW + seconds * 1000).toISOString()
const part = (n: number, expiresIn = 900, version = 1): SignedPart => ({
  part_number: n,
  url: `https://bucket.test/k?partNumber=${n}&uploadId=u&v=${version}`,
  expires_at: later(expiresIn),
})

function signerWith(initial: SignedPart[], count = 30, batchSize = 5) {
  let version = 1
  const sign = vi.fn(async (numbers: number[]) => {
    version += 1
    return numbers.map((n) => part(n, 900, version))
  })
  const signer = new PartSigner(sign, count, initial, { batchSize, now: () => NOW })
  return { signer, sign }
}

describe('PartSigner', () => {
  it('uses the URLs signed up front without asking the API', async () => {
    const { signer, sign } = signerWith([part(1), part(2)])
    expect(await signer.url(1)).toContain('partNumber=1')
    expect(await signer.url(2)).toContain('partNumber=2')
    expect(sign).not.toHaveBeenCalled()
  })

  it('signs later parts on demand, in batches', async () => {
    const { signer, sign } = signerWith([part(1)], 30, 5)
    expect(await signer.url(2)).toContain('partNumber=2')
    expect(sign).toHaveBeenCalledWith([2, 3, 4, 5, 6], undefined)
    for (const n of [3, 4, 5, 6]) await signer.url(n)
    expect(sign).toHaveBeenCalledTimes(1)
  })

  it('asks once for parts requested at the same time', async () => {
    const { signer, sign } = signerWith([], 30, 10)
    const urls = await Promise.all([1, 2, 3, 4].map((n) => signer.url(n)))
    expect(urls.map((u) => new URL(u).searchParams.get('partNumber'))).toEqual(['1', '2', '3', '4'])
    expect(sign).toHaveBeenCalledTimes(1)
  })

  it('does not sign past the last part', async () => {
    const { signer, sign } = signerWith([], 3, 10)
    await signer.url(2)
    expect(sign).toHaveBeenCalledWith([2, 3], undefined)
    await expect(signer.url(4)).rejects.toThrow(RangeError)
    await expect(signer.url(0)).rejects.toThrow(RangeError)
  })

  it('re-signs a URL that has expired or is about to', async () => {
    const { signer, sign } = signerWith([part(1, 30), part(2, -5)], 2)
    expect(await signer.url(1)).toContain('v=2')
    expect(sign).toHaveBeenCalledTimes(1)
    expect(sign.mock.calls[0][0]).toEqual([1, 2])
    expect(await signer.url(2)).toContain('v=2')
  })

  it('hands each URL out once, so a retried part gets a fresh one', async () => {
    const { signer, sign } = signerWith([part(1)], 1)
    const first = await signer.url(1)
    const second = await signer.url(1)
    expect(first).toContain('v=1')
    expect(second).toContain('v=2')
    expect(sign).toHaveBeenCalledWith([1], undefined)
  })

  it('passes a failed signing request on, and a later call tries again', async () => {
    const sign = vi.fn().mockRejectedValueOnce(new Error('503')).mockResolvedValue([part(1)])
    const signer = new PartSigner(sign, 1, [], { now: () => NOW })
    await expect(signer.url(1)).rejects.toThrow('503')
    expect(await signer.url(1)).toContain('partNumber=1')
  })
})
