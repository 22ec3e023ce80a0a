import { waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { API, fakeApi } from '../test/fakes'
import { ApiClient, ApiError, errorMessage, hasCode } from './api'
import { DEFAULT_RUN_TYPES, loadConfig, parseConfig } from './config'
import { displayText, formatBytes, formatDuration, formatSpeed } from './format'
import { isRetryable } from './retry'
import { navigate, pageKey, parseHash, runHref, runsHref } from './router'

describe('ApiClient', () => {
  it("turns the contract's JSON errors into ApiError with the API's message", async () => {
    const { api } = fakeApi({
      'POST /v1/uploads': () => ({
        status: 422,
        body: { error: { code: 'validation_error', message: "unknown run type 'x'", details: [{ field: 'type', message: 'unknown run type' }] } },
      }),
    })
    const error = await api.createUpload({ type: 'x', label: null, notes: null, files: [] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 422, code: 'validation_error', message: "unknown run type 'x'" })
    expect((error as ApiError).details).toEqual([{ field: 'type', message: 'unknown run type' }])
    expect(isRetryable(error)).toBe(false)
  })

  it('explains an unreachable API, and a non-JSON answer', async () => {
    const down = new ApiClient(API, (async () => {
      throw new TypeError('Failed to fetch')
    }) as typeof fetch)
    const error = await down.getRun('x').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 0, code: 'network_error' })
    expect(isRetryable(error)).toBe(true)
    expect(errorMessage(error)).toMatch(/Cannot reach the Inlet API at http:\/\/api.test/)

    const html = new ApiClient(API, (async () => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' })) as typeof fetch)
    const bad = await html.getRun('x').catch((e: unknown) => e)
    expect(bad).toMatchObject({ status: 502, message: 'The API answered 502 Bad Gateway' })
    expect(isRetryable(bad)).toBe(true)
    expect(bad).toMatchObject({ code: 'http_error' })
  })

  it("keeps the contract's error code, for the page to branch on", async () => {
    const { api } = fakeApi({
      'GET /v1/uploads/:run/files/:file/parts': () => ({
        status: 409,
        body: { error: { code: 'upload_completed', message: 'the upload of file f is already completed', details: [] } },
      }),
      'DELETE /v1/uploads/:run': () => ({
        status: 409,
        body: { error: { code: 'run_not_pending', message: 'run r is stored; only pending runs can be cancelled', details: [] } },
      }),
    })
    const completed = await api.listParts('r', 'f').catch((e: unknown) => e)
    expect(hasCode(completed, 'upload_completed')).toBe(true)
    expect(hasCode(completed, 'upload_gone', 'not_multipart')).toBe(false)
    const notPending = await api.cancelRun('r').catch((e: unknown) => e)
    expect(hasCode(notPending, 'not_found', 'run_not_pending')).toBe(true)
    expect(hasCode(new Error('run_not_pending'), 'run_not_pending')).toBe(false)
  })

  it('builds the runs query and encodes ids', async () => {
    const { api, calls } = fakeApi({
      'GET /v1/runs': ({ query }) => ({ body: { items: [], next_cursor: query.get('cursor') } }),
      'GET /v1/runs/:id': () => ({ body: {} }),
    })
    const page = await api.listRuns({ status: 'pending', type: 'ds_etc', limit: 25, cursor: 'abc' })
    expect(page.next_cursor).toBe('abc')
    await api.getRun('a/b')
    expect(calls.map((c) => c.path)).toEqual(['/v1/runs', '/v1/runs/a%2Fb'])
    expect(new ApiClient('http://x/').baseUrl).toBe('http://x')
  })
})

describe('config.json', () => {
  it('needs an http(s) apiUrl', () => {
    expect(parseConfig({ apiUrl: 'http://127.0.0.1:8000/' })).toEqual({
      apiUrl: 'http://127.0.0.1:8000',
      runTypes: DEFAULT_RUN_TYPES,
      defaultRunType: 'app_bundle',
    })
    expect(() => parseConfig({})).toThrow(/apiUrl/)
    expect(() => parseConfig({ apiUrl: 'ftp://x' })).toThrow(/apiUrl/)
    expect(() => parseConfig('nope')).toThrow(/object/)
  })

  it('takes the run types the deployment configured', () => {
    const config = parseConfig({ apiUrl: 'https://api', runTypes: ['a', 'b'], defaultRunType: 'b' })
    expect(config.runTypes).toEqual(['a', 'b'])
    expect(config.defaultRunType).toBe('b')
    expect(parseConfig({ apiUrl: 'https://api', runTypes: ['a'], defaultRunType: 'zz' }).defaultRunType).toBe('a')
  })

  it('is fetched from beside index.html', async () => {
    let asked = ''
    const config = await loadConfig((async (url: string) => {
      asked = url
      return new Response(JSON.stringify({ apiUrl: 'https://api.example' }), { headers: { 'Content-Type': 'application/json' } })
    }) as unknown as typeof fetch)
    expect(asked).toBe('./config.json')
    expect(config.apiUrl).toBe('https://api.example')
  })
})

describe('formatting', () => {
  it('sizes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(2345)).toBe('2.35 KB')
    expect(formatBytes(20_000_000)).toBe('20.0 MB')
    expect(formatBytes(734_003_200)).toBe('734 MB')
    expect(formatBytes(-1)).toBe('–')
  })

  it('durations and speeds', () => {
    expect(formatDuration(0.2)).toBe('1 s')
    expect(formatDuration(42)).toBe('42 s')
    expect(formatDuration(185)).toBe('3 min 5 s')
    expect(formatDuration(7440)).toBe('2 h 4 min')
    expect(formatDuration(null)).toBe('–')
    expect(formatSpeed(8_100_000)).toBe('8.10 MB/s')
    expect(formatSpeed(null)).toBe('–')
  })

  it('names without controls or bidi overrides, everything else as it is', () => {
    // Emoji with joiners and a variation selector, a combining mark, CJK, right-to-left text
    // with its mark: shown exactly.
    for (const name of ['👨\u200d👩\u200d👧.txt', '❤\ufe0f', 'e\u0301te.txt', '日本語.txt', 'שלום\u200f.pdf', 'ملف.txt']) {
      expect(displayText(name)).toBe(name)
    }
    expect(displayText('a\u001b[31mb\u0007.txt')).toBe('a\ufffd[31mb\ufffd.txt')
    expect(displayText('invoice\u202efdp.exe')).toBe('invoice\ufffdfdp.exe')
    expect(displayText('a\u2066b\u2069\u0085\u2028')).toBe('a\ufffdb\ufffd\ufffd\ufffd')
    expect(displayText('one\ntwo\tthree')).toBe('one\ufffdtwo\ufffdthree')
    expect(displayText('one\r\ntwo\tthree\u001b', { multiline: true })).toBe('one\r\ntwo\tthree\ufffd')
  })
})

describe('hash routes', () => {
  const runs = { name: 'runs', status: '', type: '', q: '', after: [] }

  it('parses the three pages', () => {
    expect(parseHash('')).toEqual({ name: 'upload' })
    expect(parseHash('#/upload')).toEqual({ name: 'upload' })
    expect(parseHash('#/runs?status=pending&type=ds_etc')).toEqual({ ...runs, status: 'pending', type: 'ds_etc' })
    expect(parseHash('#/runs')).toEqual(runs)
    expect(parseHash('#/runs/abc')).toEqual({ name: 'run', id: 'abc' })
    expect(parseHash('#/nope')).toEqual({ name: 'missing', path: '/nope' })
  })

  it('builds links', () => {
    expect(runsHref({ status: 'stored' })).toBe('#/runs?status=stored')
    expect(runsHref()).toBe('#/runs')
    expect(runHref('a b')).toBe('#/runs/a%20b')
  })

  it('keeps the filters, the search and every cursor of the runs list through a link', () => {
    // Cursors are opaque: a comma, an ampersand or an equals sign in one must not split it.
    const view = { status: 'pending', type: 'ds_etc', q: 'Café 🎉 & co?', after: ['eyJ0IjoiMjAyNi0x', 'a,b&c=d'] }
    const href = runsHref(view)
    expect(href).toMatch(/^#\/runs\?status=pending&type=ds_etc&q=[^&]+&after=eyJ0IjoiMjAyNi0x&after=a%2Cb%26c%3Dd$/)
    expect(parseHash(href)).toEqual({ name: 'runs', ...view })
    // As the browser hands it back from location.hash.
    window.location.hash = href
    expect(parseHash(window.location.hash)).toEqual({ name: 'runs', ...view })
    expect(parseHash('#/runs?after=&q=')).toEqual(runs)
  })

  it('tells pages apart, not their filters', () => {
    expect(pageKey(parseHash('#/runs?q=foo'))).toBe(pageKey(parseHash('#/runs?status=stored&after=c1')))
    expect(pageKey(parseHash('#/runs/a'))).not.toBe(pageKey(parseHash('#/runs/b')))
    expect(pageKey(parseHash('#/runs'))).not.toBe(pageKey(parseHash('#/upload')))
  })

  it('navigates adding a history entry, or replacing the current one', async () => {
    window.location.hash = '#/upload'
    const before = window.history.length
    const heard: string[] = []
    const listener = (e: HashChangeEvent) => heard.push(new URL(e.newURL).hash)
    window.addEventListener('hashchange', listener)
    navigate('#/runs?q=abc')
    expect(window.location.hash).toBe('#/runs?q=abc')
    expect(window.history.length).toBe(before + 1)
    navigate('#/runs?q=abcd', { replace: true })
    expect(window.location.hash).toBe('#/runs?q=abcd')
    expect(window.history.length).toBe(before + 1)
    // useRoute hears both (hashchange is asynchronous).
    await waitFor(() => expect(heard.slice(-2)).toEqual(['#/runs?q=abc', '#/runs?q=abcd']))
    window.removeEventListener('hashchange', listener)
  })
})
