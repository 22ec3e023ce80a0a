import { defineConfig } from '@playwright/test'

// Browser tests against the real dev stack (python -m local.stack), started by globalSetup on
// free ports with a throwaway SQLite database, the page on an origin of its own (e2e/stack.ts).
// Spec files that need other settings (limits, Postgres with tokens, a changed bucket CORS rule)
// start their own stack. Chromium is Debian's (/usr/bin/chromium): Playwright's own browser
// download is never used. The page must be built first: `npm run e2e` builds it.
export const CHROMIUM = process.env.INLET_CHROMIUM ?? '/usr/bin/chromium'

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  timeout: 180_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // A test.only left in a spec would silently skip the others: refuse it, on CI and locally.
  forbidOnly: true,
  // ...and under CI a skipped test fails the run (e2e/no-skips-reporter.ts).
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }], ['./e2e/no-skips-reporter.ts']],
  globalSetup: './e2e/global-setup.ts',
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 900 },
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
})
