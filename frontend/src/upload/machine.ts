// The upload's state machine: every phase an upload session can be in, every event that moves it,
// and the one table that says where each event leads. The session (session.ts) changes phase only
// by sending events here. An event the table does not list for the current phase is a bug and
// throws (IllegalTransition); one that may arrive and must change nothing is listed as IGNORED.

export type Phase = 'idle' | 'hashing' | 'creating' | 'uploading' | 'done' | 'failed' | 'cancelling' | 'cancelled'

export type UploadEvent =
  /** Upload pressed: wait for the server's rules (when they are still on their way) and for the
   * hashes of the files that go in one PUT (their URLs sign it). */
  | 'start'
  /** The rules, known only now, refuse some of the files: back to choosing. */
  | 'refused'
  /** Those are hashed: create the run (POST /v1/uploads). Larger files go on hashing while they
   * upload; each one's complete waits for its sha256, so 'uploading' has no hashing phase. */
  | 'hashed'
  /** A file that goes in one PUT could not be hashed. */
  | 'hashFailed'
  /** The run exists (created, or found again to resume): send the bytes. */
  | 'created'
  /** The API refused to create the run. */
  | 'createFailed'
  /** A file could not be queued for the bucket (a plan the page cannot follow). */
  | 'queueFailed'
  /** Every file reached the bucket. */
  | 'finished'
  /** The uploader stopped with files not in the bucket. */
  | 'unfinished'
  /** Retry pressed (for every failed file, or for one): send it again. */
  | 'retry'
  /** Cancel pressed. */
  | 'cancel'
  /** The API cancelled the run. */
  | 'cancelled'
  /** The API did not cancel the run. */
  | 'cancelFailed'
  /** Forget the files and the run, start over. */
  | 'reset'
  /** A changed file chosen again after its run was created: cancel the run, to start a new one. */
  | 'replace'
  /** That run is cancelled: back to choosing, with every file kept. */
  | 'replaced'
  /** Resume pressed with an unfinished run's files chosen again: look the run up. */
  | 'resume'
  /** The unfinished run cannot go on (it is gone or no longer pending, or the lookup failed). */
  | 'resumeEnded'

/** An event that may arrive in this phase and changes nothing. */
export const IGNORED = 'ignored'

export type Outcome = Phase | typeof IGNORED

/** phase × event → next phase. Anything not listed is an illegal transition. */
export const TRANSITIONS: { readonly [P in Phase]: Readonly<Partial<Record<UploadEvent, Outcome>>> } = {
  idle: { start: 'hashing', resume: 'creating', reset: 'idle' },
  hashing: { refused: 'idle', hashed: 'creating', hashFailed: 'idle', cancel: 'idle' },
  creating: { created: 'uploading', createFailed: 'idle', resumeEnded: 'idle', cancel: 'cancelling' },
  uploading: { queueFailed: 'failed', finished: 'done', unfinished: 'failed', cancel: 'cancelling' },
  done: { reset: 'idle' },
  failed: { retry: 'uploading', cancel: 'cancelling', replace: 'cancelling', reset: 'idle' },
  cancelling: {
    // cancelled while the run was being created or looked up: it is cancelled once it exists
    created: IGNORED,
    createFailed: 'idle',
    resumeEnded: 'idle',
    cancelled: 'cancelled',
    replaced: 'idle',
    cancelFailed: 'failed',
  },
  cancelled: { reset: 'idle' },
}

export const PHASES = Object.keys(TRANSITIONS) as Phase[]

/** Phases with work under way: the page warns before it is left, and nothing new can start. */
export const BUSY: ReadonlySet<Phase> = new Set<Phase>(['hashing', 'creating', 'uploading', 'cancelling'])

export class IllegalTransition extends Error {
  readonly phase: Phase
  readonly event: UploadEvent

  constructor(phase: Phase, event: UploadEvent) {
    super(`upload: "${event}" cannot happen while ${phase}`)
    this.name = 'IllegalTransition'
    this.phase = phase
    this.event = event
  }
}

/** Where `event` leads from `phase`: a phase, or the same phase when IGNORED. Throws when illegal. */
export function nextPhase(phase: Phase, event: UploadEvent): Phase {
  const outcome = TRANSITIONS[phase][event]
  if (outcome === undefined) throw new IllegalTransition(phase, event)
  return outcome === IGNORED ? phase : outcome
}

/** `event` moves `phase` somewhere (listed, and not IGNORED). */
export function canSend(phase: Phase, event: UploadEvent): boolean {
  const outcome = TRANSITIONS[phase][event]
  return outcome !== undefined && outcome !== IGNORED
}

/** The current phase of one upload session. */
export class UploadMachine {
  #phase: Phase

  constructor(phase: Phase = 'idle') {
    this.#phase = phase
  }

  get phase(): Phase {
    return this.#phase
  }

  get busy(): boolean {
    return BUSY.has(this.#phase)
  }

  is(...phases: Phase[]): boolean {
    return phases.includes(this.#phase)
  }

  can(event: UploadEvent): boolean {
    return canSend(this.#phase, event)
  }

  /** Apply `event`; returns the new phase. Throws IllegalTransition when the table has no entry. */
  send(event: UploadEvent): Phase {
    this.#phase = nextPhase(this.#phase, event)
    return this.#phase
  }
}
