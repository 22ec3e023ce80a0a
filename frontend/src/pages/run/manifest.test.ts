import { describe, expect, it } from 'vitest'
import type { ManifestEntry } from '../../lib/types'
import { buildTree, childrenOf, initiallyOpen, isArchiveName, segments, type TreeDir } from './manifest'

const file = (path: string, size = 1, sha256: string | null = 'ab'.repeat(32)): ManifestEntry => ({ path, kind: 'file', size_bytes: size, sha256 })
const dir = (path: string): ManifestEntry => ({ path, kind: 'dir', size_bytes: 0, sha256: null })

/** The tree as nested names: folders end with `/`. */
function shape(d: TreeDir): unknown[] {
  return childrenOf(d).map((node) => (node.kind === 'dir' ? { [`${node.name}/`]: shape(node) } : node.name))
}

function at(root: TreeDir, path: string): TreeDir {
  let node = root
  for (const name of segments(path)) {
    const next = node.dirs.get(name)
    if (!next) throw new Error(`no folder ${path}`)
    node = next
  }
  return node
}

describe('isArchiveName', () => {
  it('knows the archives the manifest processor reads, whatever the case', () => {
    for (const name of ['etc.tar', 'etc.tar.gz', 'etc.TGZ', 'bundle.zip', 'a.b.Tar.Gz']) expect(isArchiveName(name), name).toBe(true)
    for (const name of ['etc.gz', 'notes.txt', 'tar', 'zip', 'etc.tar.bz2', 'app.conf']) expect(isArchiveName(name), name).toBe(false)
  })
})

describe('buildTree', () => {
  it('puts files under the folders of their paths, folders first, each by name', () => {
    const root = buildTree([file('README'), dir('etc/'), file('etc/hosts'), dir('etc/ssh/'), file('etc/ssh/sshd_config'), file('bin/sh')])
    expect(shape(root)).toEqual([{ 'bin/': ['sh'] }, { 'etc/': [{ 'ssh/': ['sshd_config'] }, 'hosts'] }, 'README'])
    expect(at(root, 'etc/ssh').path).toBe('etc/ssh')
    expect(at(root, 'etc').files[0]).toMatchObject({ kind: 'file', name: 'hosts', path: 'etc/hosts' })
  })

  it('makes the folders an archive leaves implied, and knows which ones it listed', () => {
    const root = buildTree([file('a/b/c/deep.txt', 5), dir('a/')])
    expect(shape(root)).toEqual([{ 'a/': [{ 'b/': [{ 'c/': ['deep.txt'] }] }] }])
    expect(at(root, 'a').listed).toBe(true)
    expect(at(root, 'a/b').listed).toBe(false)
    expect(at(root, 'a/b/c').listed).toBe(false)
  })

  it('adds up files and bytes of every folder, with the folders below it', () => {
    const root = buildTree([file('a/1', 10), file('a/b/2', 20), file('a/b/c/3', 30), dir('a/empty/'), file('top', 5)])
    expect([root.fileCount, root.bytes]).toEqual([4, 65])
    expect([at(root, 'a').fileCount, at(root, 'a').bytes]).toEqual([3, 60])
    expect([at(root, 'a/b').fileCount, at(root, 'a/b').bytes]).toEqual([2, 50])
    expect([at(root, 'a/empty').fileCount, at(root, 'a/empty').bytes]).toEqual([0, 0])
  })

  it('keeps emoji and other non-ASCII names whole', () => {
    const root = buildTree([file('📁 docs/🎉 party.txt'), file('📁 docs/naïve/日本語.conf'), file('🦄')])
    expect(shape(root)).toEqual([{ '📁 docs/': [{ 'naïve/': ['日本語.conf'] }, '🎉 party.txt'] }, '🦄'])
    expect(at(root, '📁 docs/naïve').files[0].path).toBe('📁 docs/naïve/日本語.conf')
  })

  it('reads ./, doubled and trailing slashes as tar writes them, and skips the archive itself', () => {
    const root = buildTree([dir('./'), dir('./etc/'), file('./etc//hosts', 3), file('etc/passwd', 4)])
    expect(shape(root)).toEqual([{ 'etc/': ['hosts', 'passwd'] }])
    expect(at(root, 'etc').files.map((f) => f.path)).toEqual(['etc/hosts', 'etc/passwd'])
  })

  it('lists a path the archive holds twice twice, and a file beside a folder of the same name', () => {
    const root = buildTree([file('x', 1), file('x', 2), file('x/inner', 3)])
    expect(shape(root)).toEqual([{ 'x/': ['inner'] }, 'x', 'x'])
    expect(root.files.map((f) => f.size)).toEqual([1, 2])
  })

  it('orders numbers in names as people do', () => {
    const root = buildTree(['file10', 'file2', 'File1', 'file1.bak'].map((name) => file(name)))
    expect(shape(root)).toEqual(['File1', 'file1.bak', 'file2', 'file10'])
  })

  it('counts 10,000 entries in a folder 50 levels deep', () => {
    const deep = Array.from({ length: 50 }, (_, i) => `d${i}`).join('/')
    const entries = Array.from({ length: 10_000 }, (_, i) => file(`${deep}/f${i}`, 2))
    const root = buildTree(entries)
    expect(root.fileCount).toBe(10_000)
    expect(root.bytes).toBe(20_000)
    expect(at(root, deep).files).toHaveLength(10_000)
  })
})

describe('initiallyOpen', () => {
  it('opens the chain of lone folders at the top, down to the first level with a choice', () => {
    expect([...initiallyOpen(buildTree([file('etc/app/a.conf'), file('etc/app/b/c.conf'), file('etc/app/d/e.conf')]))]).toEqual([
      'etc',
      'etc/app',
    ])
    expect([...initiallyOpen(buildTree([file('a/x'), file('b/y')]))]).toEqual([])
    expect([...initiallyOpen(buildTree([file('README'), file('etc/hosts')]))]).toEqual([])
  })
})
