import { type APIRequestContext, expect, type Page, test } from '@playwright/test'
import { randomBytes } from 'node:crypto'
import { expectNoAxeViolations, expectStored, mainStack, makeFile, shot, uploadThroughApi } from './helpers'

// Issue 16 on the runs list and the run page, on the main stack: search by label (emoji, accents
// and spaces), the page and its filters in the URL through a reload and Back, cancelling a
// pending run from the list and from its page, honest offline and unreachable states, and the
// phone layout. The stack is shared with other specs: every label carries this run's tag, and
// every run left pending is cancelled (the owner may hold only 20 pending runs).
const stack = mainStack()
const tag = randomBytes(3).toString('hex')
const pendingRuns = new Set<string>()

interface ApiRun {
  id: string
  status: string
  label: string | null
}

/** A run created and never uploaded: it stays pending until cancelled. */
async function createPending(request: APIRequestContext, label: string): Promise<string> {
  const created = await request.post(`${stack.apiUrl}/v1/uploads`, {
    data: { type: 'app_bundle', label, files: [{ name: 'half sent 📦.bin', size: 1234 }] },
  })
  expect(created.status(), await created.text()).toBe(201)
  const id = ((await created.json()) as { run: ApiRun }).run.id
  pendingRuns.add(id)
  return id
}

async function apiRun(request: APIRequestContext, id: string): Promise<ApiRun> {
  return (await (await request.get(`${stack.apiUrl}/v1/runs/${id}`)).json()) as ApiRun
}

/** Stored runs labelled `labels`, oldest first; their ids in that order. */
async function storedRuns(request: APIRequestContext, labels: string[]): Promise<string[]> {
  const ids: string[] = []
  for (const [i, label] of labels.entries()) {
    const id = await uploadThroughApi(request, stack, makeFile(`runs-${tag}-${i}.bin`, 2_000 + i), label)
    await expectStored(request, stack, id)
    ids.push(id)
  }
  return ids
}

async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const width = page.viewportSize()?.width ?? 0
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
}

test.afterAll(async ({ playwright }) => {
  const request = await playwright.request.newContext()
  for (const id of pendingRuns) await request.delete(`${stack.apiUrl}/v1/uploads/${id}`)
  await request.dispose()
})

test('search by label finds runs named with emoji, accents and spaces; a reload and Back keep the page', async ({ page, request }, info) => {
  const term = `Été 🎉 rapport ${tag}`
  const labels = [1, 2, 3].map((n) => `${term} n° ${n}`)
  await storedRuns(request, labels)
  await createPending(request, `ailleurs ${tag}`) // matches the tag, not the search

  await page.goto(`${stack.pageUrl}#/runs`)
  const box = page.getByRole('searchbox', { name: 'Search labels' })
  await box.fill('Ét')
  await expect(page.getByText('Type at least 3 characters')).toBeVisible()
  await box.fill(term)
  await expect.poll(() => new URL(page.url()).hash).toBe(`#/runs?${new URLSearchParams({ q: term })}`)
  const rows = page.getByTestId('run-row')
  await expect(rows).toHaveText(labels.toReversed().map((label) => new RegExp(label)))
  await shot(page, info, '10-runs-search')
  await expectNoAxeViolations(page, info, 'the runs list searched by label')

  // A search that matches nothing says so.
  await box.fill(`${term} nowhere`)
  await expect(page.getByText(`No runs match “${term} nowhere”.`)).toBeVisible()
  await box.fill(term)
  await expect(rows).toHaveCount(3)

  // The second page of the search (the API's cursor after the newest one), as the pager opens it.
  const first = await request.get(`${stack.apiUrl}/v1/runs?${new URLSearchParams({ q: term, limit: '1' })}`)
  const cursor = ((await first.json()) as { next_cursor: string }).next_cursor
  await page.getByLabel('Status').selectOption('stored')
  await expect.poll(() => new URL(page.url()).hash).toBe(`#/runs?${new URLSearchParams({ status: 'stored', q: term })}`)
  await page.goto(`${stack.pageUrl}#/runs?${new URLSearchParams({ status: 'stored', q: term, after: cursor })}`)
  await expect(page.getByText('Page 2')).toBeVisible()
  await expect(rows).toHaveText([labels[1], labels[0]].map((label) => new RegExp(label)))

  await page.reload()
  await expect(page.getByText('Page 2')).toBeVisible()
  await expect(rows).toHaveText([labels[1], labels[0]].map((label) => new RegExp(label)))
  await expect(box).toHaveValue(term)
  await expect(page.getByLabel('Status')).toHaveValue('stored')
  await shot(page, info, '11-runs-page-2-after-reload')

  await page.getByRole('button', { name: '← Newer' }).click()
  await expect(page.getByText('Page 1')).toBeVisible()
  await expect(rows).toHaveCount(3)
  await page.goBack()
  await expect(page.getByText('Page 2')).toBeVisible()
  await expect(rows).toHaveCount(2)
  await expectNoAxeViolations(page, info, 'the second page of a search')
})

test('a pending run is cancelled from the runs list and from its page, after a confirm step', async ({ page, request }, info) => {
  const fromList = await createPending(request, `Envoi en cours ⏳ ${tag} liste`)
  const fromPage = await createPending(request, `Envoi en cours ⏳ ${tag} page`)

  await page.goto(`${stack.pageUrl}#/runs?${new URLSearchParams({ q: `⏳ ${tag}` })}`)
  const row = page.locator(`[data-run-id="${fromList}"]`)
  await expect(row).toContainText('pending')
  await row.getByRole('button', { name: `Cancel run Envoi en cours ⏳ ${tag} liste` }).click()
  const confirm = row.getByRole('group', { name: 'Cancel this run? Its partial uploads are removed from the bucket.' })
  await expect(confirm).toBeVisible()
  await shot(page, info, '20-runs-cancel-confirm')
  await expectNoAxeViolations(page, info, 'the cancel confirm step in the runs list')
  await confirm.getByRole('button', { name: 'Confirm' }).click()
  await expect(row.getByText('Run cancelled.')).toBeFocused()
  await expect(row).toContainText('cancelled')
  expect((await apiRun(request, fromList)).status).toBe('cancelled')
  // The other run is untouched.
  await expect(page.locator(`[data-run-id="${fromPage}"]`)).toContainText('pending')
  await shot(page, info, '21-runs-cancelled')

  await page.locator(`[data-run-id="${fromPage}"]`).getByRole('link').click()
  await expect(page.getByTestId('run-status')).toHaveText('pending')
  await page.getByRole('button', { name: 'Cancel run' }).click()
  await expect(page.getByText('Cancel this run? Its partial uploads are removed from the bucket.')).toBeVisible()
  await page.getByRole('button', { name: 'Confirm' }).click()
  await expect(page.getByText('Run cancelled. Its partial uploads were removed from the bucket.')).toBeFocused()
  await expect(page.getByTestId('run-status')).toHaveText('cancelled')
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0)
  // Its file will never arrive, and says so.
  await expect(page.getByRole('listitem', { name: 'half sent 📦.bin' })).toContainText('not uploaded')
  expect((await apiRun(request, fromPage)).status).toBe('cancelled')
  await shot(page, info, '22-run-cancelled')
  await expectNoAxeViolations(page, info, 'a run page after its cancel')
})

test('offline, the runs list and a run page say so; unreachable, they say the API did not answer', async ({ page, context, request }, info) => {
  const [id] = await storedRuns(request, [`hors ligne ${tag}`])
  await page.goto(stack.pageUrl)
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  await context.setOffline(true)
  await page.evaluate(() => (window.location.hash = '#/runs'))
  await expect(page.getByText('You are offline').first()).toBeVisible()
  await expect(page.getByText('The runs will load when you are back online.')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Try again' }).first()).toBeVisible()
  await expect(page.getByRole('table')).toHaveCount(0)
  await shot(page, info, '30-runs-offline')
  await expectNoAxeViolations(page, info, 'the runs list offline')

  await page.evaluate((runId) => (window.location.hash = `#/runs/${runId}`), id)
  await expect(page.getByText('This run will load when you are back online.')).toBeVisible()
  await expect(page.getByText('Something went wrong')).toHaveCount(0)
  await shot(page, info, '31-run-offline')

  await context.setOffline(false)
  await expect(page.getByTestId('run-status')).toHaveText('stored')

  // Online, but the API does not answer.
  await page.route(`${stack.apiUrl}/**`, (route) => route.abort('connectionrefused'))
  await page.reload()
  const alert = page.getByRole('alert').filter({ hasText: 'Could not load this run' })
  await expect(alert).toContainText(`Cannot reach the Inlet API at ${stack.apiUrl}`, { timeout: 30_000 })
  await shot(page, info, '32-run-unreachable')
  await expectNoAxeViolations(page, info, 'a run page with the API unreachable')
  await page.unroute(`${stack.apiUrl}/**`)
  await alert.getByRole('button', { name: 'Try again' }).click()
  await expect(page.getByTestId('run-status')).toHaveText('stored')
})

test('from 640 px up the runs table fits the window, its Cancel confirm step in view', async ({ page, request }, info) => {
  const long = `Une étiquette 🏷️ ${tag} très longue avec des espaces, des accents et un mot_sans_espace_qui_ne_finit_jamais_${'x'.repeat(60)}`
  await storedRuns(request, [long])
  const pending = await createPending(request, `Largeur 📐 ${tag} en attente`)
  await page.goto(`${stack.pageUrl}#/runs?${new URLSearchParams({ q: tag })}`)
  const row = page.locator(`[data-run-id="${pending}"]`)
  for (const width of [640, 768, 1024, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await expect(page.getByRole('table')).toBeVisible()
    await expect(row.getByRole('button', { name: /^Cancel run/ })).toBeInViewport()
    await expectNoSidewaysScroll(page)
  }
  await row.getByRole('button', { name: /^Cancel run/ }).click()
  await expect(row.getByRole('button', { name: 'Keep' })).toBeFocused()
  await expect(row.getByRole('button', { name: 'Confirm' })).toBeInViewport()
  await expectNoSidewaysScroll(page)
  await shot(page, info, '35-runs-table-cancel-confirm')
  await page.keyboard.press('Escape')
  await expect(row.getByRole('button', { name: 'Confirm' })).toHaveCount(0)
  await expect(row.getByRole('button', { name: /^Cancel run/ })).toBeFocused()
  await page.setViewportSize({ width: 640, height: 900 })
  await shot(page, info, '36-runs-table-640')
  await expectNoAxeViolations(page, info, 'the runs table at 640 px')
})

test.describe('on a 390 px phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })

  test('the runs list and a run page fit the width, sizes, Cancel and Download in reach', async ({ page, request }, info) => {
    const [stored] = await storedRuns(request, [`Téléphone 📱 ${tag} une étiquette assez longue pour passer à la ligne sur un petit écran`])
    const pending = await createPending(request, `Téléphone 📱 ${tag} en attente`)

    await page.goto(`${stack.pageUrl}#/runs?${new URLSearchParams({ q: `📱 ${tag}` })}`)
    const cards = page.getByTestId('run-row')
    await expect(cards).toHaveCount(2)
    await expect(page.getByRole('table')).toHaveCount(0)
    for (const card of await cards.all()) {
      await expect(card.getByText(/^\d+(\.\d+)? (B|KB)$/)).toBeVisible()
    }
    await expectNoSidewaysScroll(page)
    await shot(page, info, '40-phone-runs')
    await expectNoAxeViolations(page, info, 'the runs list on a phone')

    const card = page.locator(`[data-run-id="${pending}"]`)
    await card.getByRole('button', { name: /^Cancel run/ }).tap()
    await expect(card.getByRole('button', { name: 'Confirm' })).toBeInViewport()
    await expectNoSidewaysScroll(page)
    await shot(page, info, '41-phone-cancel-confirm')
    await card.getByRole('button', { name: 'Confirm' }).tap()
    await expect(card).toContainText('cancelled')
    expect((await apiRun(request, pending)).status).toBe('cancelled')

    await page.goto(`${stack.pageUrl}#/runs/${stored}`)
    await expect(page.getByTestId('run-status')).toHaveText('stored')
    const download = page.getByRole('button', { name: `Download runs-${tag}-0.bin` })
    await download.scrollIntoViewIfNeeded()
    await expect(download).toBeInViewport()
    await expectNoSidewaysScroll(page)
    await shot(page, info, '42-phone-run')
    await expectNoAxeViolations(page, info, 'a run page on a phone')
  })
})
