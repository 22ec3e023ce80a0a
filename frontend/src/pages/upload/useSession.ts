import { useSyncExternalStore } from 'react'
import type { SessionView, Snapshot } from '../../upload/snapshot'

/** The session's current snapshot; re-renders when it changes. */
export function useSession(session: SessionView): Snapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot)
}
