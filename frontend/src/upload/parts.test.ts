import { describe, expect, it } from 'vitest'
import { MiB, assertServerPlan, missingParts, partCount, planParts, storedBytes } from './parts'

describe('part planning', () => {
  it('cuts a 20 MB file into the 2 parts of 16 MiB the API plans', () => {
    const plan = planParts(20_000_000, 16 * MiB)
    expect(plan).toEqual([
      { partNumber: 1, start: 0, end: 16 * MiB },
      { partNumber: 2, start: 16 * MiB, end: 20_000_000 },
    ])
  })

  it('covers every byte once, in order, for awkward sizes', () => {
    for (const [size, partSize] of [
      [5 * MiB, 5 * MiB],
      [5 * MiB + 1, 5 * MiB],
      [123_456_789, 7 * MiB],
      [1, 5 * MiB],
    ]) {
      const plan = planParts(size, partSize)
      expect(plan.length).toBe(Math.ceil(size / partSize))
      expect(plan[0].start).toBe(0)
      expect(plan[plan.length - 1].end).toBe(size)
      plan.forEach((p, i) => {
        expect(p.partNumber).toBe(i + 1)
        if (i > 0) expect(p.start).toBe(plan[i - 1].end)
        if (i < plan.length - 1) expect(p.end - p.start).toBe(partSize)
      })
    }
  })

  it('an empty file is one empty part', () => {
    expect(partCount(0, 5 * MiB)).toBe(1)
    expect(planParts(0, 5 * MiB)).toEqual([{ partNumber: 1, start: 0, end: 0 }])
  })

  it('rejects nonsense sizes', () => {
    expect(() => partCount(-1, 5 * MiB)).toThrow(RangeError)
    expect(() => partCount(10, 0)).toThrow(RangeError)
    expect(() => partCount(1.5, 5 * MiB)).toThrow(RangeError)
  })

  it("accepts the server's plan only when it matches the part size", () => {
    expect(() => assertServerPlan(20_000_000, 16 * MiB, 2)).not.toThrow()
    expect(() => assertServerPlan(20_000_000, 16 * MiB, 3)).toThrow(/expected 2/)
    expect(() => assertServerPlan(12 * MiB, 4 * MiB, 3)).toThrow(/minimum/)
    // 50 GiB in parts of 6 MiB would need more than 10,000 parts
    expect(() => assertServerPlan(50 * 1024 * MiB, 6 * MiB, 8534)).not.toThrow()
    expect(() => assertServerPlan(60_000 * MiB, 5 * MiB, 12_000)).toThrow(/limit/)
  })

  it('finds the parts still missing from the bucket, and the bytes it holds', () => {
    const stored = [
      { part_number: 1, size: 16 * MiB },
      { part_number: 3, size: 16 * MiB },
    ]
    expect(missingParts(4, stored)).toEqual([2, 4])
    expect(missingParts(2, [])).toEqual([1, 2])
    expect(storedBytes(stored)).toBe(32 * MiB)
  })
})
