import { describe, expect, it } from 'vitest'
import { MiB } from '../test/fakes'
import { assertServerPlan, missingParts, partSlices, storedBytes } from './parts'

const plan = (partSize: number, partCount: number) => ({ part_size: partSize, part_count: partCount })

describe('the parts the server planned', () => {
  it('cuts a 20 MB file into the 2 parts of 16 MiB the API plans', () => {
    expect(partSlices(20_000_000, plan(16 * MiB, 2))).toEqual([
      { partNumber: 1, start: 0, end: 16 * MiB },
      { partNumber: 2, start: 16 * MiB, end: 20_000_000 },
    ])
  })

  it('covers every byte once, in order, for awkward sizes', () => {
    for (const [size, partSize, count] of [
      [5 * MiB, 5 * MiB, 1],
      [5 * MiB + 1, 5 * MiB, 2],
      [123_456_789, 7 * MiB, 17],
      [1, 5 * MiB, 1],
    ]) {
      const slices = partSlices(size, plan(partSize, count))
      expect(slices.length).toBe(count)
      expect(slices[0].start).toBe(0)
      expect(slices[slices.length - 1].end).toBe(size)
      slices.forEach((p, i) => {
        expect(p.partNumber).toBe(i + 1)
        if (i > 0) expect(p.start).toBe(slices[i - 1].end)
        if (i < slices.length - 1) expect(p.end - p.start).toBe(partSize)
      })
    }
  })

  it('an empty file is one empty part', () => {
    expect(partSlices(0, plan(5 * MiB, 1))).toEqual([{ partNumber: 1, start: 0, end: 0 }])
    expect(() => partSlices(0, plan(5 * MiB, 2))).toThrow(/do not cover/)
  })

  it('rejects nonsense sizes', () => {
    expect(() => partSlices(-1, plan(5 * MiB, 1))).toThrow(RangeError)
    expect(() => partSlices(10, plan(0, 1))).toThrow(RangeError)
    expect(() => partSlices(1.5, plan(5 * MiB, 1))).toThrow(RangeError)
    expect(() => partSlices(10, plan(5 * MiB, 0))).toThrow(RangeError)
  })

  it("accepts the server's plan only when it covers the file and S3 can take it", () => {
    expect(() => assertServerPlan(20_000_000, plan(16 * MiB, 2))).not.toThrow()
    expect(() => assertServerPlan(20_000_000, plan(16 * MiB, 3))).toThrow(/3 parts of 16777216 bytes, which do not cover 20000000/)
    expect(() => assertServerPlan(20_000_000, plan(16 * MiB, 1))).toThrow(/do not cover/)
    expect(() => assertServerPlan(12 * MiB, plan(4 * MiB, 3))).toThrow(/minimum/)
    // 50 GiB in parts of 6 MiB would need more than 10,000 parts
    expect(() => assertServerPlan(50 * 1024 * MiB, plan(6 * MiB, 8534))).not.toThrow()
    expect(() => assertServerPlan(60_000 * MiB, plan(5 * MiB, 12_000))).toThrow(/limit/)
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
