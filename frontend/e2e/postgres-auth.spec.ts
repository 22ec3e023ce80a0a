import { expect, test } from '@playwright/test'
import { BrowserWatch, expectAllInBucket, makeFile, MB, runIdOnPage, shot } from './helpers'
import { createPostgresDatabase, createToken, PG_ADMIN_URL, sqlRows, startStack, type Stack } from './stack'

// The other specs run on SQLite with authentication off (make dev's defaults). Here the stack
// runs as it does in production: Postgres (a fresh database, migrated by the stack, dropped
// afterwards) and INLET_AUTH=required, with a token an operator creates with local.admin and a
// person pastes into the page.
test.describe('on Postgres with tokens required', () => {
  let stack: Stack | undefined
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined
  let token = ''

  test.beforeAll(async () => {
    test.setTimeout(120_000)
    try {
      database = await createPostgresDatabase('auth')
    } catch (error) {
      // As in the Python suite: a local run without Postgres skips, CI (where a skip fails the
      // run, e2e/no-skips-reporter.ts) reports why.
      if (process.env.CI) throw error
      test.skip(true, `Postgres is unreachable at ${PG_ADMIN_URL}: ${(error as Error).message.split('\n')[0]}`)
    }
    stack = await startStack('postgres-auth', { DATABASE_URL: database!.url, INLET_AUTH: 'required' })
    token = await createToken(stack, 'e2e')
  })
  test.afterAll(async () => {
    await stack?.stop()
    await database?.drop()
  })

  test('without a token the page asks for one and the API refuses the upload', async ({ page, request }, info) => {
    const s = stack!
    await page.goto(s.pageUrl)
    const auth = page.getByRole('form', { name: 'Authentication' })
    await expect(auth).toContainText('This Inlet needs a token: ask your admin')
    await expect(auth.getByLabel('API token')).toBeVisible()

    const small = makeFile('no-token.txt', 999)
    await page.getByTestId('file-input').setInputFiles(small.path)
    await expect(page.getByTestId('file-row')).toContainText(`sha256 ${small.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    await expect(page.getByRole('alert')).toContainText('The API refused this upload')
    await expect(page.getByRole('button', { name: 'Upload 1 file' })).toBeEnabled()
    await shot(page, info, '13-token-needed')

    const runs = await request.get(`${s.apiUrl}/v1/runs`)
    expect(runs.status()).toBe(401)
    expect((await runs.json()).error.code).toBe('unauthorized')
  })

  test('with the token entered in the page, a multipart and a small file are stored in Postgres', async ({
    page,
    request,
  }, info) => {
    const s = stack!
    const big = makeFile('pg-bundle-20mb.bin', 20 * MB)
    const small = makeFile('pg-notes.txt', 4_321)
    const watch = new BrowserWatch(page)
    await page.goto(s.pageUrl)

    // as a person would: paste the token, save it
    const auth = page.getByRole('form', { name: 'Authentication' })
    await auth.getByLabel('API token').fill(token)
    await auth.getByRole('button', { name: 'Save' }).click()
    await expect(auth).toContainText('Token saved in this browser')
    await shot(page, info, '14-token-saved')

    await page.getByLabel('Label (optional)').fill('e2e: postgres and tokens')
    await page.getByTestId('file-input').setInputFiles([big.path, small.path])
    const bigRow = page.getByTestId('file-row').filter({ hasText: big.name })
    const smallRow = page.getByTestId('file-row').filter({ hasText: small.name })
    await expect(smallRow).toContainText(`sha256 ${small.sha256}`)
    await page.getByRole('button', { name: 'Upload 2 files' }).click()
    await expectAllInBucket(page, watch)
    await expect(bigRow).toContainText(`sha256 ${big.sha256}`) // hashed while it uploaded

    const runId = await runIdOnPage(page)
    await page.getByRole('link', { name: 'Open the run' }).click()
    await expect(page.getByTestId('run-status')).toHaveText('stored', { timeout: 60_000 })
    const bigFile = page.getByTestId('run-file').filter({ hasText: big.name })
    const smallFile = page.getByTestId('run-file').filter({ hasText: small.name })
    await expect(bigFile.getByTestId('file-sha256')).toHaveText(big.sha256)
    await expect(smallFile.getByTestId('file-sha256')).toHaveText(small.sha256)
    await shot(page, info, '15-postgres-stored')

    const headers = { Authorization: `Bearer ${token}` }
    const detail = await (await request.get(`${s.apiUrl}/v1/runs/${runId}`, { headers })).json()
    expect(detail.status).toBe('stored')
    expect(detail.label).toBe('e2e: postgres and tokens')
    // the run is in the Postgres database, owned by the token's owner
    const rows = await sqlRows(s.databaseUrl, 'SELECT status, owner FROM ingestion_runs WHERE id = %s::uuid', [runId])
    expect(rows).toEqual([['stored', 'e2e']])
  })
})
