import { describe, expect, it } from 'vitest'
import { makeFile } from '../test/fakes'
import {
  OLD_RESUME_KEY,
  RESUME_KEY,
  type ResumeRecord,
  ResumeStore,
  matchFiles,
  offerFor,
  resumeProblem,
  unfinishedRun,
} from './resume'

const API = 'http://api.test'

function record(runId = 'run-1', savedAt = '2026-11-30T10:00:00.000Z', apiUrl = API): ResumeRecord {
  return {
    apiUrl,
    runId,
    type: 'app_bundle',
    label: null,
    savedAt,
    files: [
      {
        fileId: 'a',
        name: 'big.bin',
        size: 100,
        lastModified: 1,
        contentType: 'application/octet-stream',
        sha256: 'x'.repeat(64),
        key: `runs/${runId}/a/big.bin`,
        upload: { method: 'multipart', upload_id: 'u', part_size: 5 * 1024 * 1024, part_count: 1, parts: [] },
        done: false,
      },
      {
        fileId: 'b',
        name: 'docs/small 📄.txt',
        size: 5,
        lastModified: 1,
        contentType: 'text/plain',
        sha256: 'y'.repeat(64),
        key: `runs/${runId}/b/small.txt`,
        upload: { method: 'PUT', url: 'http://s3/x', headers: {}, expires_at: '2026-01-01T00:00:00Z' },
        done: false,
      },
    ],
  }
}

const picked = (file: File, name = file.name) => ({ file, name })

describe('ResumeStore', () => {
  it('keeps one record per run across page loads (localStorage), newest first, per API', () => {
    new ResumeStore().save(record('older', '2026-11-30T09:00:00.000Z'))
    new ResumeStore().save(record('newer', '2026-11-30T11:00:00.000Z'))
    new ResumeStore().save(record('elsewhere', '2026-11-30T12:00:00.000Z', 'http://other.test'))
    const store = new ResumeStore()
    expect(store.list(API).map((r) => r.runId)).toEqual(['newer', 'older'])
    expect(store.list('http://other.test').map((r) => r.runId)).toEqual(['elsewhere'])
    expect(store.get(API, 'older')?.files).toHaveLength(2)
    expect(store.get('http://other.test', 'older')).toBeNull()
  })

  it('saves a run again in place of its old record, and forgets it', () => {
    const store = new ResumeStore()
    store.save(record('run-1'))
    const updated = record('run-1')
    updated.files[1].done = true
    store.save(updated)
    expect(store.list(API)).toHaveLength(1)
    expect(unfinishedRun(store.get(API, 'run-1')!).remaining.map((f) => f.fileId)).toEqual(['a'])
    store.forget(API, 'run-1')
    expect(store.list(API)).toEqual([])
    expect(localStorage.getItem(RESUME_KEY)).toBeNull()
  })

  it("takes in the one record an older page kept (inlet.upload.v1), once", () => {
    new ResumeStore().save(record('run-2'))
    localStorage.setItem(OLD_RESUME_KEY, JSON.stringify({ version: 1, ...record('run-1', '2026-11-29T10:00:00.000Z') }))
    const store = new ResumeStore()
    expect(store.list(API).map((r) => r.runId)).toEqual(['run-2', 'run-1'])
    expect(localStorage.getItem(OLD_RESUME_KEY)).toBeNull()
    store.forget(API, 'run-1')
    expect(new ResumeStore().list(API).map((r) => r.runId)).toEqual(['run-2'])
  })

  it('ignores garbage', () => {
    localStorage.setItem(RESUME_KEY, '{not json')
    localStorage.setItem(OLD_RESUME_KEY, JSON.stringify({ version: 1, runId: 7 }))
    expect(new ResumeStore().list(API)).toEqual([])
    localStorage.setItem(RESUME_KEY, JSON.stringify([{ runId: 'x' }, record('run-1'), null]))
    expect(new ResumeStore().list(API).map((r) => r.runId)).toEqual(['run-1'])
  })

  it('works without storage at all', () => {
    const store = new ResumeStore(null)
    store.save(record())
    expect(store.list(API)).toEqual([])
  })
})

describe('matchFiles', () => {
  it('pairs the files chosen again by name (a path in a folder) and size', () => {
    const big = makeFile('big.bin', 100, 1)
    const small = makeFile('small 📄.txt', 5, 1)
    const { matched, missing, changed } = matchFiles(record(), [picked(small, 'docs/small 📄.txt'), picked(big)])
    expect(matched.get('a')).toBe(big)
    expect(matched.get('b')).toBe(small)
    expect(missing).toEqual([])
    expect(changed).toEqual([])
  })

  it('names what is missing, and what changed since the upload started', () => {
    const match = matchFiles(record(), [picked(makeFile('big.bin', 100, 999))])
    expect(match.changed.map((f) => f.fileId)).toEqual(['a'])
    expect(match.missing.map((f) => f.fileId)).toEqual(['b'])
    const problem = resumeProblem(match)
    expect(problem?.message).toMatch(/^This file has changed since the upload started: «big\.bin»\./)
    expect(problem?.details).toEqual(['Not chosen again: «docs/small 📄.txt». Choose the same files to resume.'])
    expect(resumeProblem(matchFiles(record(), []))?.message).toBe(
      'Not chosen again: «big.bin», «docs/small 📄.txt». Choose the same files to resume.',
    )
  })

  it('does not ask again for files already done', () => {
    const r = record()
    r.files[1].done = true
    const { matched, missing } = matchFiles(r, [picked(makeFile('big.bin', 100, 1))])
    expect(matched.size).toBe(1)
    expect(missing).toEqual([])
  })
})

describe('offerFor', () => {
  const runs = [unfinishedRun(record('newer')), unfinishedRun(record('older'))]

  it('offers the newest unfinished run that has every file dropped among its remaining ones', () => {
    expect(offerFor(runs, [{ name: 'big.bin', size: 100 }])).toEqual({ runId: 'newer', matched: 1 })
    const done = record('newer')
    done.files[0].done = true
    expect(offerFor([unfinishedRun(done), runs[1]], [{ name: 'big.bin', size: 100 }])).toEqual({ runId: 'older', matched: 1 })
  })

  it('offers nothing for a file it does not have, another size, or the same file twice', () => {
    expect(offerFor(runs, [{ name: 'big.bin', size: 100 }, { name: 'other.bin', size: 1 }])).toBeNull()
    expect(offerFor(runs, [{ name: 'big.bin', size: 101 }])).toBeNull()
    expect(offerFor(runs, [{ name: 'big.bin', size: 100 }, { name: 'big.bin', size: 100 }])).toBeNull()
    expect(offerFor(runs, [])).toBeNull()
  })
})
