import { expect, type Page, test, type TestInfo } from '@playwright/test'
import { BrowserWatch, expectAllInBucket, expectNoAxeViolations, mainStack, makeFile, MB } from './helpers'

// On a phone the Upload button, the progress and the result are on the first screen, and a touch
// screen, which cannot drag files, is not asked to drop any.

const stack = mainStack()
test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })

/** The screen as the phone shows it. (helpers' shot() takes the full page, and Chromium drops the
 *  touch emulation while it takes one: the picture would show what a mouse gets.) */
async function phoneShot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`)
  await page.screenshot({ path })
  await info.attach(name, { path, contentType: 'image/png' })
}

test('on a phone: pickers without drop text; Upload, progress and result on the first screen', async ({ page }, info) => {
  await page.goto(stack.pageUrl)
  await expect(page.getByRole('heading', { level: 1, name: 'Upload files' })).toBeVisible()
  await expect(page.getByText('Drop files or folders here')).toBeHidden()
  await expect(page.getByText('Choose files', { exact: true })).toBeInViewport()
  await expectNoAxeViolations(page, info, 'phone-empty')
  await phoneShot(page, info, 'phone-01-empty')

  const files = [makeFile('photo 📷.jpg', 2 * MB), makeFile('notes.txt', 1_234), makeFile('video.mp4', 20 * MB)]
  await page.getByTestId('file-input').setInputFiles(files.map((f) => f.path))
  const upload = page.getByRole('button', { name: 'Upload 3 files' })
  await expect(upload).toBeEnabled()
  expect(await page.evaluate(() => window.scrollY)).toBe(0) // nothing scrolled: the first screen
  await expect(upload).toBeInViewport()
  await expect(page.getByRole('region', { name: 'Upload summary' })).toBeInViewport()
  await expectNoAxeViolations(page, info, 'phone-chosen')
  await phoneShot(page, info, 'phone-02-chosen')

  const watch = new BrowserWatch(page)
  await upload.tap()
  await expect(page.getByTestId('upload-status')).toBeInViewport()
  await expectAllInBucket(page, watch)
  const result = page.getByText('All files are in the bucket')
  await expect(result).toBeInViewport()
  await expect(page.getByRole('progressbar', { name: 'Overall upload progress' })).toBeInViewport()
  await expectNoAxeViolations(page, info, 'phone-done')
  await phoneShot(page, info, 'phone-03-done')
})
