import type { FullConfig } from '@playwright/test'
import { startStack, type StackInfo } from './stack'

/** One dev stack for the whole run; what the tests need of it reaches them through the
 * environment (`mainStack()` in helpers.ts). Spec files that need other settings start their
 * own stack. */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const { stop, ...info } = await startStack('main')
  process.env.INLET_E2E_STACK = JSON.stringify(info satisfies StackInfo)
  console.log(`dev stack: page ${info.pageUrl}, API ${info.apiUrl}, S3 ${info.s3Url}, log ${info.log}`)
  return stop
}
