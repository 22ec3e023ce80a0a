// Starting a browser download from a presigned URL of the upload bucket.

/**
 * Follows `url` as a link click: the bucket answers with `Content-Disposition: attachment`, so the
 * browser saves the file and the page stays. A link, not fetch(): the bytes never pass through the
 * page's script (nor its memory), and the bucket needs no CORS rule for GET. Not an iframe: the
 * page's Content-Security-Policy allows frames of its own origin only, and governs no navigation.
 */
export function startDownload(url: string): void {
  const link = document.createElement('a')
  link.href = url
  link.rel = 'noopener noreferrer'
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
}
