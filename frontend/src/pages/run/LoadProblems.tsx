import { Alert } from '../../components/Alert'
import { Button } from '../../components/Button'
import { errorMessage, hasCode } from '../../lib/api'
import { displayText } from '../../lib/format'
import { useConnectivity } from '../../lib/network'

/**
 * Why nothing can be shown, in words, with Try again. Offline: the browser says so, or the query
 * is paused waiting for the connection (it has no error then). Otherwise the reason the request
 * failed: the API did not answer (`network_error`: "Cannot reach the Inlet API at …"), or its own
 * message. `what`: "the runs", "this run".
 */
export function CannotLoad({ what, error, paused, onRetry }: { what: string; error: unknown; paused: boolean; onRetry: () => void }) {
  const browserOffline = useConnectivity() === 'offline'
  const offline = paused || (browserOffline && hasCode(error, 'network_error'))
  return (
    <Alert tone={offline ? 'warning' : 'error'} title={offline ? 'You are offline' : `Could not load ${what}`}>
      <p>
        {offline
          ? `${what[0].toUpperCase()}${what.slice(1)} will load when you are back online.`
          : displayText(errorMessage(error))}
      </p>
      <Button size="sm" onClick={onRetry}>
        Try again
      </Button>
    </Alert>
  )
}

/** Data is shown, and asking for it again failed: the data stays, and this says so. */
export function CouldNotRefresh({ error }: { error: unknown }) {
  return (
    <p role="status" className="text-xs text-amber-800">
      Could not refresh: {displayText(errorMessage(error))}
    </p>
  )
}
