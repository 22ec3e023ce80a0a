// Starts the real dev stack (moto S3 + migrations + `chalice local` + the page server) as
// `python -m local.stack` in its own process group, on free ports, with a temporary SQLite
// database (or the DATABASE_URL given). Never ports 8000/9000/8080: those belong to the people
// using `make dev`.
//
// The stack serves the page on an origin of its own (INLET_WEB_PORT, local/web.py), as make dev
// does: neither the API's nor the upload bucket's. So every API call and every upload is a real
// cross-origin request: preflights, the API's and the bucket's CORS rules, and the ETag header
// the browser may only read when the bucket's rule exposes it; and a file uploaded to the bucket
// never runs where the page keeps its token. INLET_CORS_ORIGINS is the page's origin, nothing
// else.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO = resolve(here, '..', '..')
export const PYTHON = process.env.INLET_PYTHON ?? join(REPO, '.venv', 'bin', 'python')
/** The dev stack's defaults (local/stack.py, local/settings.py). */
const UPLOAD_BUCKET = 'inlet-uploads'

/** What a test needs to know about a running stack (plain data: it crosses to the workers). */
export interface StackInfo {
  name: string
  apiUrl: string
  s3Url: string
  /** The page's own origin: neither the API's nor the bucket's. */
  pageOrigin: string
  pageUrl: string
  /** The upload bucket, on `s3Url`. */
  bucket: string
  databaseUrl: string
  /** The stack's output while it runs; copied to test-results/devstack-NAME.log when it stops. */
  log: string
}

export interface Stack extends StackInfo {
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
const SCRUB = [
  'S3_ENDPOINT_URL',
  'S3_PUBLIC_ENDPOINT_URL',
  'INLET_BUCKET',
  'INLET_CORS_ORIGINS',
  'DATABASE_URL',
  'INLET_WEB_BUCKET',
  'INLET_WEB_PORT',
  'INLET_AUTH',
  'INLET_MAX_FILE_SIZE',
]

/**
 * Starts a stack. `extraEnv` overrides its settings (DATABASE_URL, INLET_AUTH, limits, ...);
 * INLET_CORS_ORIGINS is the page's origin unless given.
 */
export async function startStack(name: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`make install\` first`)
  if (!existsSync(join(REPO, 'frontend', 'dist', 'index.html'))) {
    throw new Error('frontend/dist is not built: run `npm run build` (or `npm run e2e`, which builds)')
  }
  const ports: number[] = []
  while (ports.length < 3) {
    const port = await freePort()
    if (!ports.includes(port)) ports.push(port)
  }
  const [apiPort, s3Port, pagePort] = ports
  const apiUrl = `http://127.0.0.1:${apiPort}`
  const s3Url = `http://127.0.0.1:${s3Port}`
  const pageOrigin = `http://127.0.0.1:${pagePort}`
  const dir = mkdtempSync(join(tmpdir(), `inlet-e2e-${name}-`))
  const log = join(dir, 'devstack.log')
  const out = openSync(log, 'a')
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of SCRUB) delete env[key]
  Object.assign(env, {
    INLET_API_PORT: String(apiPort),
    INLET_S3_PORT: String(s3Port),
    INLET_WEB_PORT: String(pagePort),
    DATABASE_URL: `sqlite:///${join(dir, 'inlet.db')}`,
    INLET_AUTH: 'off',
    // The API and the upload bucket allow the page's origin, and only it.
    INLET_CORS_ORIGINS: pageOrigin,
    PYTHONUNBUFFERED: '1',
    ...extraEnv,
  })
  const child = spawn(PYTHON, ['-m', 'local.stack'], {
    cwd: REPO,
    env,
    detached: true, // its own process group: stop() ends moto, chalice and the pump together
    stdio: ['ignore', out, out],
  })
  const info: StackInfo = {
    name,
    apiUrl,
    s3Url,
    pageOrigin,
    pageUrl: `${pageOrigin}/`,
    bucket: env.INLET_BUCKET ?? UPLOAD_BUCKET,
    databaseUrl: env.DATABASE_URL ?? '',
    log,
  }
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
    await waitFor(`${info.pageUrl}`, child, log, 30) // the page server: built and served
  } catch (error) {
    await stop()
    throw error
  }
  return { ...info, stop }
}

const execFileAsync = promisify(execFile)

/** Runs the repo's Python (asynchronously: page servers share this process); its stdout. */
export async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(PYTHON, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    // First line: what went wrong in Python (its exception's line); then all it printed.
    const stderr = (error as { stderr?: string }).stderr ?? ''
    const lines = stderr.split('\n').filter((line) => line.trim())
    const reason = lines.findLast((line) => /^[\w.]+(Error|Exception)\b/.test(line)) ?? lines.at(-1) ?? String(error)
    const what = args[0] === '-c' ? 'python -c ...' : `python ${args.join(' ')}`
    throw new Error(`${what} failed: ${reason}\n${stderr}`, { cause: error })
  }
}

const S3_CALL = `
import json, sys
import boto3
from botocore.config import Config
endpoint, operation, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = boto3.client(
    "s3", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="inlet-e2e", aws_secret_access_key="inlet-e2e",
    config=Config(s3={"addressing_style": "path"}),
)
result = getattr(client, operation)(**params)
result.pop("ResponseMetadata", None)
print(json.dumps(result, default=str))
`

/** One boto3 call (`list_multipart_uploads`, `get_bucket_cors`, ...) on the stack's S3 endpoint. */
export async function s3Call<T = Record<string, unknown>>(
  stack: Pick<StackInfo, 's3Url'>,
  operation: string,
  params: Record<string, unknown>,
): Promise<T> {
  return JSON.parse(await python(['-c', S3_CALL, stack.s3Url, operation, JSON.stringify(params)])) as T
}

const PRESIGN_GET = `
import json, sys
import boto3
from botocore.config import Config
endpoint, bucket, key, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = boto3.client(
    "s3", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="inlet-e2e", aws_secret_access_key="inlet-e2e",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
)
print(client.generate_presigned_url(
    "get_object", Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=300))
`

/** A presigned GET of an object of the upload bucket (boto3), with any `Response...` overrides. */
export async function presignGet(
  stack: Pick<StackInfo, 's3Url' | 'bucket'>,
  key: string,
  params: Record<string, string> = {},
): Promise<string> {
  return (await python(['-c', PRESIGN_GET, stack.s3Url, stack.bucket, key, JSON.stringify(params)])).trim()
}

/** Keys of the multipart uploads the bucket holds under `prefix` (not completed, not aborted). */
export async function multipartUploads(stack: Pick<StackInfo, 's3Url' | 'bucket'>, prefix: string): Promise<string[]> {
  const result = await s3Call<{ Uploads?: { Key: string }[] }>(stack, 'list_multipart_uploads', {
    Bucket: stack.bucket,
    Prefix: prefix,
  })
  return (result.Uploads ?? []).map((u) => u.Key)
}

/** `python -m local.admin create-token NAME` against the stack's database: the token. */
export async function createToken(stack: Pick<StackInfo, 'databaseUrl'>, name: string): Promise<string> {
  const out = await python(['-m', 'local.admin', 'create-token', name], { DATABASE_URL: stack.databaseUrl })
  const token = out.trim().split('\n').at(-1)?.trim() ?? ''
  if (!token) throw new Error(`create-token printed no token:\n${out}`)
  return token
}

/** The admin URL the Python suite uses too (CI sets it). */
export const PG_ADMIN_URL = process.env.INLET_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

const PG_ADMIN = `
import sys
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=5) as admin:
    admin.execute(sys.argv[2])
`

/** A new, empty Postgres database (the stack migrates it); `drop` removes it. */
export async function createPostgresDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = `inlet_e2e_${name}_${Date.now().toString(36)}`
  await python(['-c', PG_ADMIN, PG_ADMIN_URL, `CREATE DATABASE "${database}"`])
  const url = `${PG_ADMIN_URL.slice(0, PG_ADMIN_URL.lastIndexOf('/'))}/${database}`
  const drop = async () => {
    await python(['-c', PG_ADMIN, PG_ADMIN_URL, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`])
  }
  return { url, drop }
}

/** Rows of one SQL query on a database (to check what the stack wrote where). */
export async function sqlRows(url: string, query: string, params: unknown[] = []): Promise<unknown[][]> {
  const code = `
import json, sys
import psycopg
with psycopg.connect(sys.argv[1], connect_timeout=5) as db:
    rows = db.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()
print(json.dumps(rows, default=str))
`
  return JSON.parse(await python(['-c', code, url, query, JSON.stringify(params)])) as unknown[][]
}
