import { expect, test } from '@playwright/test'
import { readFileSync } from 'node:fs'
import {
  type ArchiveMember,
  BrowserWatch,
  expectAllInBucket,
  expectNoAxeViolations,
  expectStored,
  mainStack,
  makeFile,
  makeTarGz,
  runIdOnPage,
  sha256Of,
  shot,
  uploadThroughApi,
} from './helpers'

// Issue 15 on the page: a stored file's Download button (a presigned GET of the recorded version,
// followed as a link: the bucket sends it as an attachment), and an archive's contents as the
// manifest processor lists them once the run is stored (run.stored → the processing queue → the
// stack's pump → the processor). On the main stack: page, API and bucket are three origins.
const stack = mainStack()
/** Stored, then an event to the processing queue, the pump, and the processor's read. */
const PROCESSED_TIMEOUT = 60_000

test.describe('after a run is stored', () => {
  test('the Download button saves exactly the bytes the run recorded, under the file name', async ({ page }, info) => {
    // A non-ASCII name: the attachment's filename* must carry it whole.
    const small = makeFile('données été.bin', 54_321)
    const watch = new BrowserWatch(page)
    await page.goto(stack.pageUrl)
    await page.getByTestId('file-input').setInputFiles([small.path])
    await expect(page.getByTestId('file-row').filter({ hasText: small.name })).toContainText(`sha256 ${small.sha256}`)
    await page.getByRole('button', { name: 'Upload 1 file' }).click()
    await expectAllInBucket(page, watch)
    const runId = await runIdOnPage(page)
    await page.getByRole('link', { name: 'Open the run' }).click()
    await expect(page.getByTestId('run-status')).toHaveText('stored', { timeout: 60_000 })
    const row = page.getByRole('listitem', { name: small.name })
    const recorded = (await row.getByTestId('file-sha256').textContent())?.trim()
    expect(recorded).toBe(small.sha256)

    const button = row.getByRole('button', { name: `Download ${small.name}` })
    const linkAsked = page.waitForResponse((r) => r.url().endsWith('/download') && r.request().method() === 'GET')
    // By keyboard: the button takes focus, Enter presses it.
    await button.focus()
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')])
    const link = (await (await linkAsked).json()) as { url: string; sha256: string; name: string; version_id: string | null }
    expect(new URL(link.url).origin).toBe(new URL(stack.s3Url).origin) // straight from the bucket
    expect(link).toMatchObject({ sha256: small.sha256, name: small.name })
    expect(download.url()).toBe(link.url)
    expect(download.suggestedFilename()).toBe(small.name)
    const saved = readFileSync(await download.path())
    expect(saved.length).toBe(small.size)
    expect(sha256Of(saved)).toBe(recorded)
    // The page stayed where it was: the attachment did not navigate away.
    await expect(page).toHaveURL(new RegExp(`#/runs/${runId}$`))
    await expect(row.getByTestId('download-error')).toHaveCount(0)
    await shot(page, info, '30-run-download')
    await expectNoAxeViolations(page, info, 'the run page of a stored file')
  })

  test("a stored archive's contents appear as a tree once the processor listed them", async ({ page, request }, info) => {
    const members: ArchiveMember[] = [
      { path: 'etc/', text: null },
      { path: 'etc/hosts', text: '127.0.0.1 localhost\n' },
      { path: 'etc/app/', text: null },
      { path: 'etc/app/app.conf', text: 'workers = 4\n' },
      { path: 'etc/app/conf.d/10-🎉 party.conf', text: 'party = yes\n' },
      { path: 'etc/app/conf.d/20-naïve.conf', text: 'naive = true\n' },
    ]
    const archive = await makeTarGz('etc-bundle.tar.gz', members)
    const runId = await uploadThroughApi(request, stack, archive, 'e2e: archive contents')
    await expectStored(request, stack, runId)

    await page.goto(`${stack.pageUrl}#/runs/${runId}`)
    await expect(page.getByTestId('run-status')).toHaveText('stored')
    const contents = page.getByRole('region', { name: `Contents of ${archive.name}` })
    await expect(contents).toBeVisible()
    const tree = contents.getByRole('list', { name: `Entries of ${archive.name}` })
    await expect(tree).toBeVisible({ timeout: PROCESSED_TIMEOUT })
    await expect(contents.getByTestId('manifest-counts')).toContainText('6 entries: 4 files, 2 folders')
    await expect(contents.getByTestId('manifest-counts')).toContainText('tar.gz')

    // etc/ is the archive's lone top folder: open; the folders in it closed, their files not shown.
    const etc = tree.getByRole('button', { name: /^etc\/\s+4 files/ })
    await expect(etc).toHaveAttribute('aria-expanded', 'true')
    const app = tree.getByRole('button', { name: /^app\/\s+3 files/ })
    await expect(app).toHaveAttribute('aria-expanded', 'false')
    await expect(tree.getByTestId('manifest-file')).toHaveCount(1) // etc/hosts
    await app.click()
    // conf.d/ has no entry of its own in the archive: the page made it from the paths.
    const confD = tree.getByRole('button', { name: /^conf\.d\/\s+2 files/ })
    await expect(confD).toHaveAttribute('aria-expanded', 'false')
    await expect(tree.getByTestId('manifest-file')).toHaveCount(2) // and etc/app/app.conf
    await confD.focus()
    await page.keyboard.press('Enter')
    await expect(confD).toHaveAttribute('aria-expanded', 'true')
    await expect(tree.getByTestId('manifest-file')).toHaveCount(4)
    const party = tree.getByTestId('manifest-file').filter({ hasText: '10-🎉 party.conf' })
    await expect(party.getByTestId('entry-sha256')).toHaveText(sha256Of('party = yes\n'))
    await expect(tree.getByTestId('manifest-file').filter({ hasText: '20-naïve.conf' }).getByTestId('entry-sha256')).toHaveText(
      sha256Of('naive = true\n'),
    )
    await expect(party.getByRole('button', { name: 'Copy the sha256 of etc/app/conf.d/10-🎉 party.conf' })).toBeVisible()
    await shot(page, info, '31-archive-contents')
    await expectNoAxeViolations(page, info, 'an archive’s contents')
  })

  test('a hostile archive gets a clear failed listing; the file stays stored and downloadable', async ({ page, request }, info) => {
    const archive = await makeTarGz('escape.tar.gz', [
      { path: 'ok.txt', text: 'fine\n' },
      { path: '../../etc/passwd', text: 'root:x:0:0::/root:/bin/sh\n' },
    ])
    const runId = await uploadThroughApi(request, stack, archive, 'e2e: hostile archive')
    await expectStored(request, stack, runId)

    await page.goto(`${stack.pageUrl}#/runs/${runId}`)
    const contents = page.getByRole('region', { name: `Contents of ${archive.name}` })
    const failed = contents.getByRole('alert')
    await expect(failed).toContainText('The archive could not be listed', { timeout: PROCESSED_TIMEOUT })
    await expect(contents.getByTestId('manifest-error')).toContainText('../../etc/passwd')
    await expect(contents.getByRole('list')).toHaveCount(0)
    await expect(page.getByTestId('run-status')).toHaveText('stored')
    const row = page.getByRole('listitem', { name: archive.name })
    await expect(row.getByRole('button', { name: `Download ${archive.name}` })).toBeEnabled()
    await shot(page, info, '32-hostile-archive')
    await expectNoAxeViolations(page, info, 'a failed listing')
  })
})
