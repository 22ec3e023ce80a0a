// Part planning for multipart uploads. The server chooses the part size and the part count
// (POST /v1/uploads); the browser must cut the file into exactly those parts, so this is the
// one definition of "part N" on the client side, and Uppy's chunking is checked against it.

export const MiB = 1024 * 1024
export const MIN_PART_SIZE = 5 * MiB
export const MAX_PARTS = 10_000

export interface PartPlan {
  partNumber: number
  /** First byte, inclusive. */
  start: number
  /** Last byte, exclusive. */
  end: number
}

export function partCount(size: number, partSize: number): number {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad size ${size}`)
  if (!Number.isInteger(partSize) || partSize <= 0) throw new RangeError(`bad part size ${partSize}`)
  return Math.max(1, Math.ceil(size / partSize))
}

/** Parts 1..n of `partSize` bytes each; the last holds the rest. */
export function planParts(size: number, partSize: number): PartPlan[] {
  const count = partCount(size, partSize)
  return Array.from({ length: count }, (_, i) => ({
    partNumber: i + 1,
    start: i * partSize,
    end: Math.min(size, (i + 1) * partSize),
  }))
}

/**
 * Throws when the server's plan cannot be followed: the part count must be what the part size
 * gives, every part but the last at least 5 MiB, and no more than 10,000 parts.
 */
export function assertServerPlan(size: number, partSize: number, serverPartCount: number): void {
  const expected = partCount(size, partSize)
  if (expected !== serverPartCount) {
    throw new Error(
      `the server planned ${serverPartCount} parts of ${partSize} bytes for ${size} bytes; expected ${expected}`,
    )
  }
  if (serverPartCount > MAX_PARTS) throw new Error(`${serverPartCount} parts is over the limit of ${MAX_PARTS}`)
  if (serverPartCount > 1 && partSize < MIN_PART_SIZE) {
    throw new Error(`part size ${partSize} is under S3's minimum of ${MIN_PART_SIZE}`)
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
