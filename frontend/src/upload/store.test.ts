import { describe, expect, it } from 'vitest'
import { SnapshotStore } from './store'

describe('SnapshotStore', () => {
  it('rebuilds the snapshot on emit and tells its listeners; emitSoon coalesces', async () => {
    let value = 0
    const store = new SnapshotStore(() => ({ value }), 5)
    let heard = 0
    const unsubscribe = store.subscribe(() => (heard += 1))
    const first = store.getSnapshot()
    expect(first).toEqual({ value: 0 })
    expect(store.getSnapshot()).toBe(first) // stable until something is emitted

    value = 1
    store.emit()
    expect(store.getSnapshot()).toEqual({ value: 1 })
    expect(heard).toBe(1)

    value = 2
    store.emitSoon()
    store.emitSoon()
    expect(store.getSnapshot()).toEqual({ value: 1 })
    await new Promise((r) => setTimeout(r, 20))
    expect(store.getSnapshot()).toEqual({ value: 2 })
    expect(heard).toBe(2)

    unsubscribe()
    store.emit()
    expect(heard).toBe(2)
    store.destroy()
  })
})
