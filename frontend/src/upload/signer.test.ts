import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../lib/api'
import type { SignedPart } from '../lib/types'
import { PartSigner, SIGN_BATCH } from './signer'

const NOW = Date.parse('2026-11-27T10:00:00Z')
const later = (seconds: number) => new Date(NOW + seconds * 1000).toISOString()
const part = (n: number, expiresIn = 900, version = 1): SignedPart => ({
  part_number: n,
  url: `https://bucket.test/k?partNumber=${n}&uploadId=u&v=${version}`,
  expires_at: later(expiresIn),
})

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

function signerWith(initial: SignedPart[], count = 50) {
  let version = 1
  const sign = vi.fn(async (numbers: number[]) => {
    version += 1
    return numbers.map((n) => part(n, 900, version))
  })
  const signer = new PartSigner(sign, count, initial, { now: () => NOW })
  return { signer, sign }
}

describe('PartSigner', () => {
  it('uses the URLs signed up front without asking the API', async () => {
    const { signer, sign } = signerWith([part(1), part(2)])
    expect(await signer.url(1)).toContain('partNumber=1')
    expect(await signer.url(2)).toContain('partNumber=2')
    expect(sign).not.toHaveBeenCalled()
  })

  it('signs later parts on demand, in batches of SIGN_BATCH', async () => {
    expect(SIGN_BATCH).toBe(20)
    const { signer, sign } = signerWith([part(1)], 50)
    expect(await signer.url(2)).toContain('partNumber=2')
    expect(sign).toHaveBeenCalledWith(range(2, 21), undefined)
    for (const n of range(3, 21)) await signer.url(n)
    expect(sign).toHaveBeenCalledTimes(1)
    await signer.url(22)
    expect(sign).toHaveBeenLastCalledWith(range(22, 41), undefined)
  })

  it('never asks for more parts at once than the contract allows', () => {
    const openapi = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'openapi.json'), 'utf8'))
    const maxItems = openapi.components.schemas.SignPartsRequest.properties.part_numbers.maxItems
    expect(typeof maxItems).toBe('number')
    expect(SIGN_BATCH).toBeLessThanOrEqual(maxItems)
  })

  it('asks once for parts requested at the same time', async () => {
    const { signer, sign } = signerWith([], 30)
    const urls = await Promise.all([1, 2, 3, 4].map((n) => signer.url(n)))
    expect(urls.map((u) => new URL(u).searchParams.get('partNumber'))).toEqual(['1', '2', '3', '4'])
    expect(sign).toHaveBeenCalledTimes(1)
  })

  it('does not sign past the last part', async () => {
    const { signer, sign } = signerWith([], 3)
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

  it('retries a signing request by the one rule: a 503 or a 408 again, a 409 never', async () => {
    const unavailable = new ApiError(503, 'unavailable', 'the database cannot be reached')
    const timeout = new ApiError(408, 'http_error', 'The API answered 408')
    const sign = vi.fn().mockRejectedValueOnce(unavailable).mockRejectedValueOnce(timeout).mockResolvedValue([part(1)])
    const signer = new PartSigner(sign, 1, [], { now: () => NOW, retryDelays: [0, 0, 0], wait: async () => undefined })
    expect(await signer.url(1)).toContain('partNumber=1')
    expect(sign).toHaveBeenCalledTimes(3)

    const notPending = new ApiError(409, 'run_not_pending', 'run r is cancelled; only pending runs take uploads')
    const refused = vi.fn().mockRejectedValue(notPending)
    const gone = new PartSigner(refused, 1, [], { now: () => NOW, retryDelays: [0, 0, 0], wait: async () => undefined })
    await expect(gone.url(1)).rejects.toBe(notPending)
    expect(refused).toHaveBeenCalledTimes(1)
  })
})
