import { describe, expect, it } from 'vitest'
import { makeFile } from '../test/fakes'
import { type ResumeRecord, ResumeStore, matchFiles, remainingFiles } from './resume'

function record(): ResumeRecord {
  return {
    version: 1,
    apiUrl: 'http://api.test',
    runId: 'run-1',
    type: 'app_bundle',
    label: null,
    savedAt: '',
    files: [
      {
        fileId: 'a',
        name: 'big.bin',
        size: 100,
        lastModified: 1,
        contentType: 'application/octet-stream',
        sha256: 'x'.repeat(64),
        key: 'runs/run-1/a/big.bin',
        upload: { method: 'multipart', upload_id: 'u', part_size: 5 * 1024 * 1024, part_count: 1, parts: [] },
        done: false,
      },
      {
        fileId: 'b',
        name: 'small.txt',
        size: 5,
        lastModified: 1,
        contentType: 'text/plain',
        sha256: 'y'.repeat(64),
        key: 'runs/run-1/b/small.txt',
        upload: { method: 'PUT', url: 'http://s3/x', headers: {}, expires_at: '2026-01-01T00:00:00Z' },
        done: false,
      },
    ],
  }
}

describe('ResumeStore', () => {
  it('keeps a record across page loads (localStorage)', () => {
    new ResumeStore().save(record())
    const loaded = new ResumeStore().load()
    expect(loaded?.runId).toBe('run-1')
    expect(loaded?.files).toHaveLength(2)
    expect(loaded?.savedAt).not.toBe('')
  })

  it('marks files done and clears', () => {
    const store = new ResumeStore()
    store.save(record())
    store.markDone('b')
    expect(remainingFiles(store.load()!).map((f) => f.fileId)).toEqual(['a'])
    store.clear()
    expect(store.load()).toBeNull()
  })

  it('ignores a record of another API, and garbage', () => {
    const store = new ResumeStore()
    store.save(record())
    expect(store.load('http://other.test')).toBeNull()
    expect(store.load('http://api.test')).not.toBeNull()
    localStorage.setItem('inlet.upload.v1', '{not json')
    expect(store.load()).toBeNull()
    localStorage.setItem('inlet.upload.v1', JSON.stringify({ version: 2 }))
    expect(store.load()).toBeNull()
  })

  it('works without storage at all', () => {
    const store = new ResumeStore(null)
    store.save(record())
    expect(store.load()).toBeNull()
  })
})

describe('matchFiles', () => {
  it('pairs the files chosen again by name, size and modification time', () => {
    const big = makeFile('big.bin', 100, 1)
    const small = makeFile('small.txt', 5, 1)
    const { matched, missing, changed } = matchFiles(record(), [small, big])
    expect(matched.get('a')).toBe(big)
    expect(matched.get('b')).toBe(small)
    expect(missing).toEqual([])
    expect(changed).toEqual([])
  })

  it('names what is missing, and what changed since', () => {
    const { missing, changed } = matchFiles(record(), [makeFile('big.bin', 100, 999)])
    expect(changed.map((f) => f.fileId)).toEqual(['a'])
    expect(missing.map((f) => f.fileId)).toEqual(['b'])
  })

  it('does not ask again for files already done', () => {
    const r = record()
    r.files[1].done = true
    const { matched, missing } = matchFiles(r, [makeFile('big.bin', 100, 1)])
    expect(matched.size).toBe(1)
    expect(missing).toEqual([])
  })
})
