import { expect, type Page, test } from '@playwright/test'
import {
  expectNoAxeViolations,
  expectStored,
  mainStack,
  makeFile,
  makeTarGz,
  MB,
  partNumberOf,
  shot,
  uploadThroughApi,
} from './helpers'

// The shell around every page (issue 16): the offline and unreachable banners, the tab title that
// follows an upload, dark mode following the system, and a compact header on a phone. On the
// main stack: page, API and bucket are three origins.
const stack = mainStack()

const OFFLINE = 'You are offline. Uploads pause and continue when the connection is back; the lists refresh then.'
const UNREACHABLE = `Cannot reach the Inlet API at ${stack.apiUrl}. Retrying…`

/** The shell's live region (always there, empty while all is well). */
function connectivity(page: Page) {
  return page.getByRole('status', { name: 'Connection' })
}

test('offline: a banner on every page; back online it goes and the runs list loads', async ({ page, context, request }, info) => {
  const label = `e2e: shell offline ${Date.now()}`
  await uploadThroughApi(request, stack, makeFile('offline.bin', 1_000), label)
  await page.goto(stack.pageUrl)
  await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()
  await expect(connectivity(page)).toBeEmpty()

  await context.setOffline(true)
  await expect(connectivity(page)).toHaveText(OFFLINE)
  await shot(page, info, 'shell-offline-upload')
  await page.getByRole('link', { name: 'Runs', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Runs' })).toBeVisible()
  await expect(connectivity(page)).toHaveText(OFFLINE)
  await expect(page.getByText(label)).toHaveCount(0) // the list waits for the network
  await shot(page, info, 'shell-offline-runs')
  await expectNoAxeViolations(page, info, 'the runs page offline')

  await context.setOffline(false)
  await expect(connectivity(page)).toBeEmpty()
  await expect(page.getByText(label).first()).toBeVisible()
  await shot(page, info, 'shell-back-online-runs')
})

test('API unreachable: a banner with Try again; it recovers by itself once the API answers', async ({ page, request }, info) => {
  const label = `e2e: shell unreachable ${Date.now()}`
  await uploadThroughApi(request, stack, makeFile('unreachable.bin', 1_000), label)
  const api = `${stack.apiUrl}/**`
  await page.route(api, (route) => route.abort('connectionrefused'))
  // The list gives up after its own retries; then the page probes the API's health by itself.
  const health = (r: { url(): string }) => new URL(r.url()).pathname === '/health'
  const firstProbe = page.waitForRequest(health, { timeout: 30_000 })
  await page.goto(`${stack.pageUrl}#/runs`)
  const banner = connectivity(page)
  await expect(banner).toContainText(UNREACHABLE)
  await expect(banner.getByRole('button', { name: 'Try again' })).toBeVisible()
  await shot(page, info, 'shell-unreachable')
  await expectNoAxeViolations(page, info, 'the runs page with the API unreachable')

  await firstProbe
  // Try again asks at once; still no answer, the banner stays.
  const asked = page.waitForRequest(health)
  await banner.getByRole('button', { name: 'Try again' }).click()
  await asked
  await expect(banner).toContainText(UNREACHABLE)

  // The API is back: the next probe (5 s, then 10 s, … at most 30 s apart) or any other call
  // of the page finds it, without a click.
  await page.unroute(api)
  await expect(banner).toBeEmpty({ timeout: 35_000 })
  await expect(page.getByText(label).first()).toBeVisible()
  await shot(page, info, 'shell-api-back')
})

test('the tab title follows an upload: a percent while it goes, then ✓ Uploaded', async ({ page }, info) => {
  // Every title the page shows, in order.
  await page.addInitScript(() => {
    const titles: string[] = []
    Object.assign(window, { titles })
    new MutationObserver(() => {
      if (titles.at(-1) !== document.title) titles.push(document.title)
    }).observe(document, { subtree: true, childList: true, characterData: true })
  })
  // Parts reach the bucket one after another (part n after n × 1.5 s), so the percent moves.
  await page.route(`${stack.s3Url}/**`, async (route) => {
    const part = route.request().method() === 'PUT' ? partNumberOf(route.request().url()) : null
    if (part) await new Promise((resolve) => setTimeout(resolve, part * 1_500))
    await route.continue()
  })
  const file = makeFile('title-40mb.bin', 40 * MB)
  await page.goto(stack.pageUrl)
  await expect(page).toHaveTitle('Upload · Inlet')
  await page.getByTestId('file-input').setInputFiles([file.path])
  await page.getByRole('button', { name: /^Upload 1 file$/ }).click()
  await expect(page).toHaveTitle(/^\d{1,2}% uploading · Inlet$/)
  await shot(page, info, 'shell-title-uploading')
  await expect(page).toHaveTitle('✓ Uploaded · Inlet', { timeout: 60_000 })

  const titles = await page.evaluate(() => (window as unknown as { titles: string[] }).titles)
  const percents = titles.flatMap((t) => /^(\d+)% uploading · Inlet$/.exec(t)?.[1] ?? []).map(Number)
  expect(percents.some((p) => p > 0 && p < 100), `titles: ${titles.join(' | ')}`).toBe(true)
  expect(percents, 'the percent only grows').toEqual([...percents].sort((a, b) => a - b))
  expect(titles.at(-1)).toBe('✓ Uploaded · Inlet')
})

test.describe('dark mode, following the system', () => {
  test.use({ colorScheme: 'dark' })

  test('upload, runs and run pages are dark and pass axe-core', async ({ page, context, request }, info) => {
    const archive = await makeTarGz('dark-mode.tar.gz', [{ path: 'etc/', text: null }, { path: 'etc/app.conf', text: 'x = 1\n' }])
    const runId = await uploadThroughApi(request, stack, archive, 'e2e: dark mode 🌙')
    await expectStored(request, stack, runId)

    await page.goto(stack.pageUrl)
    await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()
    // The page's background is dark, its text light.
    const [background, text] = await page.evaluate(() => {
      // Computed colours stay oklch(); a canvas turns them into sRGB.
      const canvas = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!
      const rgb = (css: string) => {
        canvas.fillStyle = css
        canvas.fillRect(0, 0, 1, 1)
        return [...canvas.getImageData(0, 0, 1, 1).data.slice(0, 3)]
      }
      const style = getComputedStyle(document.body)
      return [rgb(style.backgroundColor), rgb(style.color)]
    })
    expect(luminance(background)).toBeLessThan(0.05)
    expect(luminance(text)).toBeGreaterThan(0.8)
    const small = makeFile('dark été 🌙.txt', 1_234)
    await page.getByTestId('file-input').setInputFiles([small.path])
    await expect(page.getByTestId('file-row').filter({ hasText: small.name })).toContainText(`sha256 ${small.sha256}`)
    await shot(page, info, 'shell-dark-upload')
    await expectNoAxeViolations(page, info, 'the upload page in dark mode')

    await page.goto(`${stack.pageUrl}#/runs`)
    await expect(page.getByText('e2e: dark mode 🌙').first()).toBeVisible()
    await shot(page, info, 'shell-dark-runs')
    await expectNoAxeViolations(page, info, 'the runs page in dark mode')
    await context.setOffline(true)
    await expect(connectivity(page)).toHaveText(OFFLINE)
    await shot(page, info, 'shell-dark-offline')
    await expectNoAxeViolations(page, info, 'the offline banner in dark mode')
    await context.setOffline(false)

    await page.goto(`${stack.pageUrl}#/runs/${runId}`)
    await expect(page.getByTestId('run-status')).toHaveText('stored')
    await expect(page).toHaveTitle(`Run ${runId.slice(0, 8)} · Inlet`)
    await shot(page, info, 'shell-dark-run')
    await expectNoAxeViolations(page, info, 'a run page in dark mode')
  })
})

test('on a 390 px phone the header stays compact, with the token field shown', async ({ page }, info) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await page.addInitScript(() => localStorage.setItem('inlet.apiToken', 'inlet_e2e-phone'))
  await page.goto(stack.pageUrl)
  await expect(page.getByRole('form', { name: 'Authentication' })).toBeVisible()
  const header = await page.getByRole('banner').boundingBox()
  expect(header?.height).toBeLessThanOrEqual(110)
  await shot(page, info, 'shell-phone-header')
})

/** Relative luminance (0 black … 1 white) of an sRGB colour (0–255 each). */
function luminance(rgb: number[]): number {
  const [r, g, b] = rgb.map((c) => {
    const v = c / 255
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}
