// Starts the real dev stack (moto S3 + migrations + `chalice local` + the published page) as
// `python -m local.stack` in its own process group, on free ports, with a temporary SQLite
// database. Never ports 8000/9000: those belong to the people using `make dev`.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO = resolve(here, '..', '..')
export const PYTHON = process.env.INLET_PYTHON ?? join(REPO, '.venv', 'bin', 'python')

export interface Stack {
  apiUrl: string
  s3Url: string
  pageUrl: string
  /** The stack's output while it runs; copied to test-results/devstack-NAME.log when it stops. */
  log: string
  stop: () => Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))))
    })
  })
}

async function waitFor(url: string, child: ChildProcess, log: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the dev stack exited with ${child.exitCode}; see ${log}`)
    try {
      const response = await fetch(url)
      if (response.ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} did not answer within ${seconds} s; see ${log}`)
}

// Settings that would point the stack somewhere else; the test stack is self-contained.
const SCRUB = ['S3_ENDPOINT_URL', 'INLET_BUCKET', 'INLET_CORS_ORIGINS', 'DATABASE_URL', 'INLET_WEB_BUCKET']

export async function startStack(name: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`make install\` first`)
  if (!existsSync(join(REPO, 'frontend', 'dist', 'index.html'))) {
    throw new Error('frontend/dist is not built: run `npm run build` (or `npm run e2e`, which builds)')
  }
  const apiPort = await freePort()
  let s3Port = await freePort()
  while (s3Port === apiPort) s3Port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), `inlet-e2e-${name}-`))
  const log = join(dir, 'devstack.log')
  const out = openSync(log, 'a')
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of SCRUB) delete env[key]
  Object.assign(env, {
    INLET_API_PORT: String(apiPort),
    INLET_S3_PORT: String(s3Port),
    DATABASE_URL: `sqlite:///${join(dir, 'inlet.db')}`,
    PYTHONUNBUFFERED: '1',
    ...extraEnv,
  })
  const child = spawn(PYTHON, ['-m', 'local.stack'], {
    cwd: REPO,
    env,
    detached: true, // its own process group: stop() ends moto, chalice and the pump together
    stdio: ['ignore', out, out],
  })
  const apiUrl = `http://127.0.0.1:${apiPort}`
  const s3Url = `http://127.0.0.1:${s3Port}`
  const pageUrl = `${s3Url}/inlet-web/index.html`
  const stopProcess = async () => {
    if (child.exitCode !== null || child.pid === undefined) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      return
    }
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
      await exited
    }
  }
  // Stop the whole process group, keep the stack's log with the test results, drop the rest.
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await stopProcess()
    closeSync(out)
    const results = join(REPO, 'frontend', 'test-results')
    mkdirSync(results, { recursive: true })
    copyFileSync(log, join(results, `devstack-${name}.log`))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(`${apiUrl}/health`, child, log, 60)
    await waitFor(`${s3Url}/inlet-web/config.json`, child, log, 30)
  } catch (error) {
    await stop()
    throw error
  }
  return { apiUrl, s3Url, pageUrl, log, stop }
}
