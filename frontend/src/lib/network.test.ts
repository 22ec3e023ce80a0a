import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Network, probeWhileUnreachable } from './network'

describe('Network', () => {
  it("follows the browser's online and offline events and whether the API answered", () => {
    const target = new EventTarget()
    const net = new Network(target)
    const seen: string[] = []
    net.subscribe(() => seen.push(net.getSnapshot()))
    expect(net.getSnapshot()).toBe('online')

    net.apiFailed()
    target.dispatchEvent(new Event('offline'))
    target.dispatchEvent(new Event('online'))
    net.apiAnswered()
    net.apiAnswered() // no change, no notice
    expect(seen).toEqual(['unreachable', 'offline', 'unreachable', 'online'])
  })
})

describe('probeWhileUnreachable', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('asks after 5 s, then less and less often up to every 30 s, until the API answers', async () => {
    const net = new Network(null)
    let calls = 0
    const probe = vi.fn(async () => {
      calls += 1
      if (calls <= 4) {
        net.apiFailed()
        throw new Error('no answer')
      }
      net.apiAnswered()
    })
    const stop = probeWhileUnreachable(net, probe, [5_000, 10_000, 20_000, 30_000])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(probe).not.toHaveBeenCalled() // reachable: nothing to probe

    net.apiFailed()
    await vi.advanceTimersByTimeAsync(4_999)
    expect(probe).toHaveBeenCalledTimes(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(probe).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(probe).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(probe).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(probe).toHaveBeenCalledTimes(4)
    await vi.advanceTimersByTimeAsync(30_000) // the longest wait repeats; this one answers
    expect(probe).toHaveBeenCalledTimes(5)
    expect(net.getSnapshot()).toBe('online')

    await vi.advanceTimersByTimeAsync(120_000)
    expect(probe).toHaveBeenCalledTimes(5)

    // Unreachable again: it starts over from the shortest wait.
    net.apiFailed()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(probe).toHaveBeenCalledTimes(6)
    stop()
  })

  it('does not probe while the browser is offline, and stops when told', async () => {
    const net = new Network(null)
    const probe = vi.fn(async () => {
      net.apiFailed()
      throw new Error('no answer')
    })
    const stop = probeWhileUnreachable(net, probe, [5_000])
    net.apiFailed()
    net.setOnline(false)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(probe).not.toHaveBeenCalled()

    net.setOnline(true)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(probe).toHaveBeenCalledTimes(1)
    stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(probe).toHaveBeenCalledTimes(1)
  })
})
