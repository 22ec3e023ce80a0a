import { useState } from 'react'
import { type Network, useConnectivity } from '../lib/network'
import { ALERT_TONES } from './Alert'
import { Button } from './Button'

/**
 * Says, on every page, that the browser is offline or that the API does not answer. The live
 * region is always there (empty while all is well), so screen readers announce the change.
 */
export function ConnectivityBanner({
  network,
  apiUrl,
  onRetry,
}: {
  network: Network
  apiUrl: string
  /** Ask the API again now (the shell also does by itself, every few seconds). */
  onRetry: () => Promise<unknown>
}) {
  const state = useConnectivity(network)
  const [trying, setTrying] = useState(false)
  const retry = () => {
    if (trying) return
    setTrying(true)
    onRetry()
      .catch(() => undefined) // still unreachable: the banner stays
      .finally(() => setTrying(false))
  }
  const banner = 'mt-3 flex flex-wrap items-center gap-x-3 gap-y-1 rounded-lg border px-4 py-2 text-sm'
  return (
    <div role="status" aria-live="polite" aria-label="Connection" className="mx-auto max-w-6xl px-4 sm:px-6">
      {state === 'offline' && (
        <p className={`${banner} ${ALERT_TONES.warning}`}>
          You are offline. Uploads pause and continue when the connection is back; the lists refresh then.
        </p>
      )}
      {state === 'unreachable' && (
        <div className={`${banner} ${ALERT_TONES.error}`}>
          <p className="min-w-0 flex-1">
            Cannot reach the Inlet API at <span className="font-mono break-all">{apiUrl}</span>. Retrying…
          </p>
          {/* Not disabled while trying: a disabled button would drop the keyboard focus. */}
          <Button size="xs" onClick={retry}>
            {trying ? 'Trying…' : 'Try again'}
          </Button>
        </div>
      )}
    </div>
  )
}
