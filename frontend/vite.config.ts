import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'
import type { Reporter, Vitest } from 'vitest/node'

// Under CI (CI set and not empty, as for the Python suite and the browser tests) a skipped or
// todo test fails the run: a green run must mean every test ran. Locally they are only listed.
// (`.only` already fails under CI: Vitest's allowOnly is off there.)
function noSkipsUnderCi(): Reporter {
  let vitest: Vitest | undefined
  return {
    onInit(ctx) {
      vitest = ctx
    },
    onTestRunEnd(testModules, _errors, reason) {
      if (reason === 'interrupted') return
      const skipped = testModules
        .flatMap((module) => [...module.children.allTests()])
        .filter((test) => test.result().state === 'skipped')
      if (!skipped.length) return
      if (!process.env.CI) {
        vitest?.logger.log(`${skipped.length} test(s) skipped or todo (under CI this fails the run)`)
        return
      }
      const lines = skipped.map((test) => {
        const why = test.options.mode === 'run' ? 'skipped while running' : test.options.mode
        return `  - ${test.module.relativeModuleId} > ${test.fullName} (${why})`
      })
      vitest?.logger.error(`\n${skipped.length} test(s) skipped under CI, where every test is required:\n${lines.join('\n')}`)
      process.exitCode = 1
    },
  }
}

// The page is served from a bucket under a path prefix (…/inlet-web/index.html), so every
// asset URL must be relative: `base: './'`. Routing uses the URL hash for the same reason.
export default defineConfig({
  base: './',
  plugins: [react(), tailwindcss()],
  build: {
    target: 'es2022',
    sourcemap: true,
  },
  worker: {
    format: 'es',
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    reporters: ['default', noSkipsUnderCi()],
  },
})
