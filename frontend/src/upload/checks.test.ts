import { describe, expect, it } from 'vitest'
import { GiB, MiB, makeRules } from '../test/fakes'
import {
  DEFAULT_MULTIPART_THRESHOLD,
  countProblem,
  fileKey,
  fileProblem,
  multipartThreshold,
  nameProblem,
  sizeProblem,
} from './checks'

describe('nameProblem (the server name policy)', () => {
  it('takes any printable name: scripts, emoji with joiners, right-to-left text and its marks, folders', () => {
    for (const name of [
      'etc.tgz',
      'résumé final.pdf',
      '👩‍👩‍👧 family 🎉.jpg',
      'דוח\u200f.pdf',
      'docs/2026/report.pdf',
      '..hidden',
      'a'.repeat(255),
      '🎉'.repeat(255), // 255 code points, 510 UTF-16 units
    ]) {
      expect([name, nameProblem(name)]).toEqual([name, null])
    }
  })

  it('refuses controls, bidirectional overrides and isolates, line separators and broken characters, naming them', () => {
    expect(nameProblem('report\u202Etxt.exe')).toBe(
      'The name contains a text-direction control (U+202E), which the server refuses; rename the file and choose it again.',
    )
    expect(nameProblem('a\u2067b')).toMatch(/a text-direction control \(U\+2067\)/)
    expect(nameProblem('a\tb.txt')).toMatch(/a control character \(U\+0009\)/)
    expect(nameProblem('a\u0085b')).toMatch(/a control character \(U\+0085\)/)
    expect(nameProblem('a\u2028b')).toMatch(/a line break \(U\+2028\)/)
    expect(nameProblem('a\uD800b')).toMatch(/a broken character \(U\+D800\)/)
    expect(nameProblem('name.txt\n')).toMatch(/U\+000A/) // refused before spaces are stripped, as the server does
  })

  it('refuses empty names and empty, "." or ".." path segments, after stripping spaces as the server does', () => {
    expect(nameProblem('')).toBe('The file has no name.')
    expect(nameProblem('   ')).toBe('The file has no name.')
    expect(nameProblem('  a.txt  ')).toBeNull()
    for (const name of ['/etc/passwd', '\\a', 'a//b', 'a/./b', '../a', 'a/..', 'docs/', '.']) {
      expect([name, nameProblem(name)]).toEqual([name, "The name cannot have an empty, '.' or '..' part between slashes."])
    }
  })

  it('refuses names over 255 characters, counted as the server counts them', () => {
    expect(nameProblem('a'.repeat(256))).toBe('The name is 256 characters long; the limit is 255.')
    expect(nameProblem(`${'🎉'.repeat(256)}`)).toBe('The name is 256 characters long; the limit is 255.')
    expect(nameProblem(` ${'a'.repeat(255)} `)).toBeNull()
  })
})

describe('sizeProblem and countProblem (the server upload rules)', () => {
  const rules = makeRules({ max_file_size: 5_000_000_000, max_files_per_run: 100 })

  it('says in human sizes how far a file is over the limit', () => {
    expect(sizeProblem(4_200_000_000, rules)).toBeNull()
    expect(sizeProblem(5_000_000_000, rules)).toBeNull()
    expect(sizeProblem(51 * GiB, rules)).toBe('54.8 GB is over the 5.00 GB limit per file.')
    // when the human sizes look the same, the bytes tell the difference
    expect(sizeProblem(5_000_000_001, rules)).toBe('5,000,000,001 bytes is over the limit of 5,000,000,000 bytes per file.')
  })

  it('checks nothing about sizes and counts while the rules are not known', () => {
    expect(sizeProblem(51 * GiB, null)).toBeNull()
    expect(countProblem(10_000, null)).toBeNull()
    expect(fileProblem('a\u202Eb', 1, null)).toMatch(/U\+202E/)
    expect(fileProblem('ok.bin', 51 * GiB, rules)).toMatch(/over the 5.00 GB limit/)
  })

  it('says how many files to remove', () => {
    expect(countProblem(100, rules)).toBeNull()
    expect(countProblem(101, rules)).toBe('101 files chosen; one run holds at most 100. Remove 1 file.')
    expect(countProblem(1_234, rules)).toBe('1,234 files chosen; one run holds at most 100. Remove 1,134 files.')
  })

  it('takes the multipart threshold from the rules, 16 MiB only while they are unknown', () => {
    expect(multipartThreshold(null)).toBe(DEFAULT_MULTIPART_THRESHOLD)
    expect(DEFAULT_MULTIPART_THRESHOLD).toBe(16 * MiB)
    expect(multipartThreshold(makeRules({ multipart_threshold: 6 * MiB }))).toBe(6 * MiB)
  })
})

describe('fileKey', () => {
  it('is the same for the same file chosen twice, and differs by name, size or modification time', () => {
    expect(fileKey('a|1', 2, 3)).toBe(fileKey('a|1', 2, 3))
    const keys = new Set([fileKey('a|1', 2, 3), fileKey('a', 12, 3), fileKey('a|1', 2, 4), fileKey('a|1|2', 3, 3)])
    expect(keys.size).toBe(4)
  })
})
