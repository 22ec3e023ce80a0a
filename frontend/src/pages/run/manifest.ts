// An archive's manifest (GET .../manifest: its entries in archive order, `/`-separated paths) as
// a tree of folders and files for the run page.
import type { ManifestEntry } from '../../lib/types'

/** Names the manifest processor reads as archives (the server decides; this only says which
 *  stored files the page asks about). */
const ARCHIVE_SUFFIXES = ['.tar', '.tar.gz', '.tgz', '.zip']

export function isArchiveName(name: string): boolean {
  const lower = name.toLowerCase()
  return ARCHIVE_SUFFIXES.some((suffix) => lower.endsWith(suffix))
}

export interface TreeFile {
  kind: 'file'
  name: string
  path: string
  size: number
  sha256: string | null
}

export interface TreeDir {
  kind: 'dir'
  name: string
  /** Its path in the archive without a trailing `/`; '' for the root. */
  path: string
  dirs: Map<string, TreeDir>
  /** In archive order; an archive may hold the same path twice, and both are listed. */
  files: TreeFile[]
  /** Whether the archive has an entry of its own for it (tar and zip may leave folders implied). */
  listed: boolean
  /** Files and bytes in it and every folder below it. */
  fileCount: number
  bytes: number
}

export type TreeNode = TreeDir | TreeFile

function newDir(name: string, path: string): TreeDir {
  return { kind: 'dir', name, path, dirs: new Map(), files: [], listed: false, fileCount: 0, bytes: 0 }
}

/** A path's names: empty and `.` segments dropped (`./a//b/` is `a/b`). */
export function segments(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.')
}

/** The tree of `entries`: a folder for every path prefix, whether the archive lists it or not. */
export function buildTree(entries: readonly ManifestEntry[]): TreeDir {
  const root = newDir('', '')
  for (const entry of entries) {
    const parts = segments(entry.path)
    if (parts.length === 0) continue // the archive's own `./`
    const leaf = entry.kind === 'dir' ? parts.length : parts.length - 1
    let dir = root
    for (let i = 0; i < leaf; i++) {
      let next = dir.dirs.get(parts[i])
      if (!next) {
        next = newDir(parts[i], parts.slice(0, i + 1).join('/'))
        dir.dirs.set(parts[i], next)
      }
      dir = next
    }
    if (entry.kind === 'dir') {
      dir.listed = true
    } else {
      const name = parts[parts.length - 1]
      dir.files.push({ kind: 'file', name, path: parts.join('/'), size: entry.size_bytes, sha256: entry.sha256 })
    }
  }
  count(root)
  return root
}

/** Adds up files and bytes, deepest folders first (no recursion: paths may nest deeply). */
function count(root: TreeDir): void {
  const order = [root]
  for (let i = 0; i < order.length; i++) order.push(...order[i].dirs.values())
  for (let i = order.length - 1; i >= 0; i--) {
    const dir = order[i]
    dir.fileCount = dir.files.length
    dir.bytes = dir.files.reduce((sum, file) => sum + file.size, 0)
    for (const child of dir.dirs.values()) {
      dir.fileCount += child.fileCount
      dir.bytes += child.bytes
    }
  }
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/** What a folder shows: its folders, then its files, each by name (`file2` before `file10`). */
export function childrenOf(dir: TreeDir): TreeNode[] {
  const dirs = [...dir.dirs.values()].sort((a, b) => byName.compare(a.name, b.name))
  const files = [...dir.files].sort((a, b) => byName.compare(a.name, b.name))
  return [...dirs, ...files]
}

/** The folders open at first: the chain of lone folders from the top (`etc/` of an `etc.tgz`),
 *  so the first level with a choice shows, and nothing larger. */
export function initiallyOpen(root: TreeDir): Set<string> {
  const open = new Set<string>()
  let dir = root
  while (dir.files.length === 0 && dir.dirs.size === 1) {
    dir = dir.dirs.values().next().value as TreeDir
    open.add(dir.path)
  }
  return open
}
