import { useSyncExternalStore } from 'react'
import type { Snapshot, UploadSession } from '../../upload/session'

/** The session's current snapshot; re-renders when it changes. */
export function useSession(session: UploadSession): Snapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot)
}
