import type { FullResult, Reporter, Suite } from '@playwright/test/reporter'

/**
 * Under CI (CI set and not empty, as for the Python suite) a skipped browser test fails the run:
 * a green run must mean every test ran. `test.skip`, `test.fixme`, a skip from a hook (Postgres
 * unreachable) all count. Locally it only lists them. `forbidOnly` covers `test.only`.
 */
export default class NoSkipsReporter implements Reporter {
  #root: Suite | undefined

  onBegin(_config: unknown, suite: Suite): void {
    this.#root = suite
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const skipped = (this.#root?.allTests() ?? []).filter((t) => t.outcome() === 'skipped')
    if (!skipped.length) return undefined
    const required = Boolean(process.env.CI)
    const lines = skipped.map((t) => {
      const why = t.annotations.find((a) => a.type === 'skip' || a.type === 'fixme')?.description
      return `  - ${t.titlePath().filter(Boolean).join(' › ')}${why ? ` (${why})` : ''}`
    })
    const head = required
      ? `${skipped.length} test(s) skipped under CI, where every test is required:`
      : `${skipped.length} test(s) skipped (under CI this fails the run):`
    console.log(`\n${head}\n${lines.join('\n')}`)
    return required ? { status: 'failed' } : { status: result.status }
  }

  printsToStdio(): boolean {
    return false
  }
}
