import { expect, type Page, type TestInfo } from '@playwright/test'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const MB = 1000 * 1000

export interface TestFile {
  path: string
  name: string
  size: number
  sha256: string
}

const dir = mkdtempSync(join(tmpdir(), 'inlet-e2e-files-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

/** A file of random bytes on disk (setInputFiles by path keeps its real mtime for resume). */
export function makeFile(name: string, size: number): TestFile {
  const data = randomBytes(size)
  const path = join(dir, name)
  writeFileSync(path, data)
  return { path, name, size, sha256: createHash('sha256').update(data).digest('hex') }
}

export function env(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: the global setup did not start the stack`)
  return value
}

export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`)
  await page.screenshot({ path, fullPage: true })
  await info.attach(name, { path, contentType: 'image/png' })
}

/** The run id the upload page links to once the run exists. */
export async function runIdOnPage(page: Page): Promise<string> {
  const link = page.locator('a[href^="#/runs/"]').first()
  await expect(link).toBeVisible()
  const href = (await link.getAttribute('href')) ?? ''
  return decodeURIComponent(href.replace('#/runs/', ''))
}

/** Requests for multipart parts carry partNumber and uploadId in the presigned URL. */
export function partNumberOf(url: string): number | null {
  const params = new URL(url).searchParams
  if (!params.has('uploadId')) return null
  const n = Number(params.get('partNumber'))
  return Number.isInteger(n) && n > 0 ? n : null
}
