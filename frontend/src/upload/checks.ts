// What the page checks before any work is done for a file: its name against the server's name
// policy (chalicelib/schemas.py: refused_character, FileSpec), its size and the number of files
// against the server's upload rules (GET /v1/limits `uploads`). A refusal shows at once, next to
// the file, instead of after every file was hashed. The API checks all of it again.

import { formatBytes } from '../lib/format'
import type { UploadRules } from '../lib/types'

/** The server's default multipart threshold, assumed only while its rules are not known. */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024

/** FileSpec.name's max_length, in code points. */
export const MAX_NAME_LENGTH = 255

// What refused_character refuses: controls (Cc), lone surrogates (Cs), bidirectional embeddings,
// overrides and isolates, line and paragraph separators.
const REFUSED = /[\p{Cc}\p{Cs}\u202a-\u202e\u2066-\u2069\u2028\u2029]/u
// What Python's str.strip() removes from a name before it is checked, but the controls (refused
// above): the API strips whitespace from every string it is sent.
const EDGE_SPACES = /^[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+|[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+$/g

function characterKind(ch: string): string {
  if (/\p{Cc}/u.test(ch)) return 'a control character'
  if (/\p{Cs}/u.test(ch)) return 'a broken character'
  if (ch === '\u2028' || ch === '\u2029') return 'a line break'
  return 'a text-direction control'
}

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Why the server would refuse this file name, in words, or null. */
export function nameProblem(name: string): string | null {
  const refused = REFUSED.exec(name)?.[0]
  if (refused) {
    return `The name contains ${characterKind(refused)} (${codePoint(refused)}), which the server refuses; rename the file and choose it again.`
  }
  const plain = name.replace(EDGE_SPACES, '')
  if (!plain) return 'The file has no name.'
  const length = [...plain].length
  if (length > MAX_NAME_LENGTH) return `The name is ${length} characters long; the limit is ${MAX_NAME_LENGTH}.`
  if (/^[/\\]/.test(plain) || plain.split(/[/\\]/).some((part) => part === '' || part === '.' || part === '..')) {
    return "The name cannot have an empty, '.' or '..' part between slashes."
  }
  return null
}

/** Why a file of `size` bytes is over the rules, in words, or null (always null while the rules are unknown). */
export function sizeProblem(size: number, rules: UploadRules | null): string | null {
  if (!rules || size <= rules.max_file_size) return null
  const [have, most] = [formatBytes(size), formatBytes(rules.max_file_size)]
  if (have === most) {
    // "5.00 GB is over the 5.00 GB limit" says nothing: the bytes do
    return `${count(size)} bytes is over the limit of ${count(rules.max_file_size)} bytes per file.`
  }
  return `${have} is over the ${most} limit per file.`
}

/** Why a chosen file cannot go as it is, in words, or null. */
export function fileProblem(name: string, size: number, rules: UploadRules | null): string | null {
  return nameProblem(name) ?? sizeProblem(size, rules)
}

/** Why `files` files cannot go as one run, in words, or null. */
export function countProblem(files: number, rules: UploadRules | null): string | null {
  if (!rules || files <= rules.max_files_per_run) return null
  const most = rules.max_files_per_run
  const extra = files - most
  return `${count(files)} files chosen; one run holds at most ${count(most)}. Remove ${extra === 1 ? '1 file' : `${count(extra)} files`}.`
}

/** Files above this size go as multipart uploads (and are hashed while they upload). */
export function multipartThreshold(rules: UploadRules | null): number {
  return rules?.multipart_threshold ?? DEFAULT_MULTIPART_THRESHOLD
}

/** One key per file as chosen: the same file chosen twice has the same key. Unambiguous, since
 *  the two numbers after the last separators hold none. */
export function fileKey(name: string, size: number, lastModified: number): string {
  return `${name}|${size}|${lastModified}`
}

function count(n: number): string {
  return n.toLocaleString('en')
}
