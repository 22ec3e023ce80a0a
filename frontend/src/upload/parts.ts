// The parts of a multipart upload, as the SERVER planned them. The server alone decides the part
// size and the part count (POST /v1/uploads answers `upload.part_size` and `upload.part_count`);
// the page never computes either. It only cuts the file along that plan, and refuses a plan it
// cannot follow rather than sending other parts than the ones the server will complete.

import type { MultipartUpload } from '../lib/types'

const MiB = 1024 * 1024
/** S3's floor for every part but the last (and Uppy's, which cuts the file). */
export const MIN_PART_SIZE = 5 * MiB
/** S3's ceiling on the parts of one upload. */
export const MAX_PARTS = 10_000

export type PartPlan = Pick<MultipartUpload, 'part_size' | 'part_count'>

export interface PartSlice {
  partNumber: number
  /** First byte, inclusive. */
  start: number
  /** Last byte, exclusive. */
  end: number
}

function checkNumbers(size: number, plan: PartPlan): void {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad size ${size}`)
  if (!Number.isInteger(plan.part_size) || plan.part_size <= 0) throw new RangeError(`bad part size ${plan.part_size}`)
  if (!Number.isInteger(plan.part_count) || plan.part_count <= 0) throw new RangeError(`bad part count ${plan.part_count}`)
}

/**
 * Throws when the server's plan does not cut exactly `size` bytes: parts 1..part_count-1 of
 * `part_size` bytes and a last part of 1..part_size bytes (an empty file is one empty part).
 */
function checkCovers(size: number, plan: PartPlan): void {
  const { part_size: partSize, part_count: count } = plan
  const covers = size === 0 ? count === 1 : (count - 1) * partSize < size && size <= count * partSize
  if (!covers) {
    throw new Error(`the server planned ${count} parts of ${partSize} bytes, which do not cover ${size} bytes exactly`)
  }
}

/** Parts 1..part_count of the server's plan: `part_size` bytes each, the last holds the rest. */
export function partSlices(size: number, plan: PartPlan): PartSlice[] {
  checkNumbers(size, plan)
  checkCovers(size, plan)
  return Array.from({ length: plan.part_count }, (_, i) => ({
    partNumber: i + 1,
    start: i * plan.part_size,
    end: Math.min(size, (i + 1) * plan.part_size),
  }))
}

/**
 * Throws when the server's plan cannot be followed: it must cover the file exactly, every part
 * but the last must be at least 5 MiB and there may be no more than 10,000 parts (S3's rules,
 * which Uppy also applies when it cuts the file: a plan within them is cut exactly as planned).
 */
export function assertServerPlan(size: number, plan: PartPlan): void {
  checkNumbers(size, plan)
  checkCovers(size, plan)
  if (plan.part_count > MAX_PARTS) throw new Error(`${plan.part_count} parts is over the limit of ${MAX_PARTS}`)
  if (plan.part_count > 1 && plan.part_size < MIN_PART_SIZE) {
    throw new Error(`part size ${plan.part_size} is under S3's minimum of ${MIN_PART_SIZE}`)
  }
}

/** Part numbers the bucket does not hold yet (resume). */
export function missingParts(count: number, stored: Iterable<{ part_number: number }>): number[] {
  const have = new Set<number>()
  for (const part of stored) have.add(part.part_number)
  const missing: number[] = []
  for (let n = 1; n <= count; n++) if (!have.has(n)) missing.push(n)
  return missing
}

/** Bytes the bucket already holds for a file, from its stored parts (resume progress). */
export function storedBytes(stored: Iterable<{ size: number }>): number {
  let total = 0
  for (const part of stored) total += part.size
  return total
}
