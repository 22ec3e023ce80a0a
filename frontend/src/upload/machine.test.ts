import { describe, expect, it } from 'vitest'
import {
  BUSY,
  IGNORED,
  IllegalTransition,
  PHASES,
  type Phase,
  TRANSITIONS,
  type UploadEvent,
  UploadMachine,
  canSend,
  nextPhase,
} from './machine'

const EVENTS: UploadEvent[] = [
  'start',
  'refused',
  'hashed',
  'hashFailed',
  'created',
  'createFailed',
  'queueFailed',
  'finished',
  'unfinished',
  'retry',
  'cancel',
  'cancelled',
  'cancelFailed',
  'reset',
  'replace',
  'replaced',
  'resume',
  'resumeEnded',
]

/** The table, spelled out: every legal (phase, event) and where it leads. */
const EXPECTED: Record<string, Phase | typeof IGNORED> = {
  'idle start': 'hashing',
  'idle resume': 'creating',
  'idle reset': 'idle',
  'hashing refused': 'idle',
  'hashing hashed': 'creating',
  'hashing hashFailed': 'idle',
  'hashing cancel': 'idle',
  'creating created': 'uploading',
  'creating createFailed': 'idle',
  'creating resumeEnded': 'idle',
  'creating cancel': 'cancelling',
  'uploading queueFailed': 'failed',
  'uploading finished': 'done',
  'uploading unfinished': 'failed',
  'uploading cancel': 'cancelling',
  'failed retry': 'uploading',
  'failed cancel': 'cancelling',
  'failed replace': 'cancelling',
  'failed reset': 'idle',
  'done reset': 'idle',
  'cancelling created': IGNORED,
  'cancelling createFailed': 'idle',
  'cancelling resumeEnded': 'idle',
  'cancelling cancelled': 'cancelled',
  'cancelling replaced': 'idle',
  'cancelling cancelFailed': 'failed',
  'cancelled reset': 'idle',
}

describe('the upload state machine', () => {
  it('has exactly the transitions of the table, for every phase and event', () => {
    expect(PHASES).toEqual(['idle', 'hashing', 'creating', 'uploading', 'done', 'failed', 'cancelling', 'cancelled'])
    for (const phase of PHASES) {
      for (const event of EVENTS) {
        const expected = EXPECTED[`${phase} ${event}`]
        expect([phase, event, TRANSITIONS[phase][event]]).toEqual([phase, event, expected])
        if (expected === undefined) {
          expect(() => nextPhase(phase, event)).toThrow(IllegalTransition)
          expect(canSend(phase, event)).toBe(false)
        } else if (expected === IGNORED) {
          expect(nextPhase(phase, event)).toBe(phase)
          expect(canSend(phase, event)).toBe(false)
        } else {
          expect(nextPhase(phase, event)).toBe(expected)
          expect(canSend(phase, event)).toBe(true)
        }
      }
    }
  })

  it('lists only known events', () => {
    for (const phase of PHASES) for (const event of Object.keys(TRANSITIONS[phase])) expect(EVENTS).toContain(event)
  })

  it('reaches every phase from idle, and can always get back to idle', () => {
    const reachable = new Set<Phase>(['idle'])
    let grew = true
    while (grew) {
      grew = false
      for (const phase of [...reachable]) {
        for (const outcome of Object.values(TRANSITIONS[phase])) {
          if (outcome !== IGNORED && !reachable.has(outcome)) {
            reachable.add(outcome)
            grew = true
          }
        }
      }
    }
    expect([...reachable].sort()).toEqual([...PHASES].sort())
    // from every phase, some path leads back to idle (nothing is a dead end)
    for (const start of PHASES) {
      const seen = new Set<Phase>([start])
      const queue = [start]
      while (queue.length) {
        const phase = queue.shift()!
        for (const outcome of Object.values(TRANSITIONS[phase])) {
          if (outcome !== IGNORED && !seen.has(outcome)) {
            seen.add(outcome)
            queue.push(outcome)
          }
        }
      }
      expect([start, seen.has('idle')]).toEqual([start, true])
    }
  })

  it('is busy exactly while work is under way', () => {
    expect([...BUSY].sort()).toEqual(['cancelling', 'creating', 'hashing', 'uploading'])
  })

  it('walks an upload from start to done, and refuses what cannot happen', () => {
    const machine = new UploadMachine()
    expect(machine.phase).toBe('idle')
    expect(machine.busy).toBe(false)
    expect(machine.send('start')).toBe('hashing')
    expect(machine.busy).toBe(true)
    expect(machine.can('retry')).toBe(false)
    expect(() => machine.send('retry')).toThrow('upload: "retry" cannot happen while hashing')
    expect(machine.phase).toBe('hashing') // an illegal event changes nothing
    machine.send('hashed')
    machine.send('created')
    expect(machine.is('uploading')).toBe(true)
    machine.send('unfinished')
    expect(machine.is('failed')).toBe(true)
    machine.send('retry')
    machine.send('finished')
    expect(machine.phase).toBe('done')
    expect(machine.can('reset')).toBe(true)
    machine.send('reset')
    expect(machine.phase).toBe('idle')
  })

  it('starts over with a file chosen again: the failed run is cancelled, the files stay for a new one', () => {
    const machine = new UploadMachine('failed')
    expect(machine.send('replace')).toBe('cancelling')
    expect(machine.busy).toBe(true)
    expect(() => machine.send('retry')).toThrow(IllegalTransition)
    expect(machine.send('replaced')).toBe('idle')
    // the cancel can fail: the failed run stays, as it was
    const failing = new UploadMachine('failed')
    failing.send('replace')
    expect(failing.send('cancelFailed')).toBe('failed')
  })

  it('goes back to choosing when the rules, known only after Upload was pressed, refuse a file', () => {
    const machine = new UploadMachine()
    machine.send('start')
    expect(machine.send('refused')).toBe('idle')
    expect(() => new UploadMachine('uploading').send('refused')).toThrow('upload: "refused" cannot happen while uploading')
  })

  it('ignores the run showing up while cancelling, explicitly', () => {
    const machine = new UploadMachine('creating')
    machine.send('cancel')
    expect(machine.send('created')).toBe('cancelling')
    expect(machine.send('cancelled')).toBe('cancelled')
  })
})
