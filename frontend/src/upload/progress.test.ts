import { describe, expect, it } from 'vitest'
import { SpeedMeter, combine, fraction, percent, timeLeft } from './progress'

function clock() {
  let now = 0
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('SpeedMeter', () => {
  it('measures bytes per second over the window', () => {
    const c = clock()
    const meter = new SpeedMeter(5000, c.now)
    expect(meter.speed()).toBeNull()
    meter.update(0)
    c.advance(1000)
    meter.update(10_000_000)
    expect(meter.speed()).toBeCloseTo(10_000_000)
    c.advance(1000)
    meter.update(30_000_000)
    expect(meter.speed()).toBeCloseTo(15_000_000)
  })

  it('forgets samples older than the window, so the speed follows the network', () => {
    const c = clock()
    const meter = new SpeedMeter(2000, c.now)
    meter.update(0)
    for (let i = 1; i <= 5; i++) {
      c.advance(1000)
      meter.update(i * 100_000_000) // fast at first
    }
    for (let i = 1; i <= 4; i++) {
      c.advance(1000)
      meter.update(500_000_000 + i * 1_000_000) // then slow
    }
    expect(meter.speed()).toBeCloseTo(1_000_000, -3)
  })

  it('falls to zero when nothing moves', () => {
    const c = clock()
    const meter = new SpeedMeter(3000, c.now)
    meter.update(0)
    c.advance(1000)
    meter.update(1_000_000)
    for (let i = 0; i < 5; i++) {
      c.advance(1000)
      meter.update(1_000_000)
    }
    expect(meter.speed()).toBe(0)
  })

  it('does not count parts found in the bucket on resume as speed', () => {
    const c = clock()
    const meter = new SpeedMeter(5000, c.now)
    meter.update(0)
    c.advance(1000)
    meter.update(1_000_000)
    meter.discount(32_000_000) // the next totals include 32 MB that were already there
    c.advance(1000)
    meter.update(34_000_000)
    expect(meter.speed()).toBeCloseTo(1_000_000)
  })

  it('needs a quarter second of samples before it tells', () => {
    const c = clock()
    const meter = new SpeedMeter(5000, c.now)
    meter.update(0)
    c.advance(100)
    meter.update(5_000_000)
    expect(meter.speed()).toBeNull()
  })

  it('starts over when the total goes backwards (a file sent again from its start)', () => {
    const c = clock()
    const meter = new SpeedMeter(5000, c.now)
    meter.update(1000)
    c.advance(1000)
    meter.update(500)
    expect(meter.speed()).toBeNull()
    c.advance(1000)
    meter.update(2500)
    expect(meter.speed()).toBeCloseTo(2000)
  })
})

describe('progress math', () => {
  it('time left from the remaining bytes and the speed', () => {
    expect(timeLeft(10_000_000, 2_000_000)).toBe(5)
    expect(timeLeft(0, null)).toBe(0)
    expect(timeLeft(10, null)).toBeNull()
    expect(timeLeft(10, 0)).toBeNull()
  })

  it('fractions are clamped and an empty total is done', () => {
    expect(fraction(5, 10)).toBe(0.5)
    expect(fraction(15, 10)).toBe(1)
    expect(fraction(-1, 10)).toBe(0)
    expect(fraction(0, 0)).toBe(1)
  })

  it('overall progress weighs files by their bytes', () => {
    const totals = combine([
      { size: 90, done: 90 },
      { size: 10, done: 0 },
    ])
    expect(totals).toEqual({ total: 100, done: 90, fraction: 0.9 })
    expect(combine([{ size: 10, done: 50 }]).done).toBe(10)
  })

  it('percent keeps one decimal and never rounds up to 100', () => {
    expect(percent(0.8389)).toBe(83.8)
    expect(percent(0.99999)).toBe(99.9)
    expect(percent(1)).toBe(100)
  })
})
