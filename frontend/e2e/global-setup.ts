import type { FullConfig } from '@playwright/test'
import { startStack } from './stack'

/** One dev stack for the whole run; its URLs reach the tests through the environment. */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const stack = await startStack('main')
  process.env.INLET_E2E_PAGE_URL = stack.pageUrl
  process.env.INLET_E2E_API_URL = stack.apiUrl
  process.env.INLET_E2E_S3_URL = stack.s3Url
  process.env.INLET_E2E_LOG = stack.log
  console.log(`dev stack: page ${stack.pageUrl}, API ${stack.apiUrl}, log ${stack.log}`)
  return async () => {
    await stack.stop()
  }
}
