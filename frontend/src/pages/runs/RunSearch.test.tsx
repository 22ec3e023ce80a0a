import { act, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RunSearch, SEARCH_DELAY_MS, searchTerm } from './RunSearch'

// Fake timers: the wait after typing is counted, not waited for. Events are fired (user-event
// waits on timers of its own).
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function setup(q = '') {
  const onSearch = vi.fn()
  const view = render(<RunSearch q={q} onSearch={onSearch} />)
  const box = screen.getByRole<HTMLInputElement>('searchbox', { name: 'Search labels' })
  return { onSearch, box, ...view }
}

const pause = (ms: number) => act(() => vi.advanceTimersByTime(ms))
/** Types `text` after what the box holds, one character at a time, `gap` ms apart. */
function type(box: HTMLInputElement, text: string, gap = 0) {
  for (const char of text) {
    fireEvent.change(box, { target: { value: box.value + char } })
    pause(gap)
  }
}

describe('RunSearch', () => {
  it('sends what was typed once typing pauses, not each keystroke', () => {
    const { onSearch, box } = setup()
    type(box, 'invoice', SEARCH_DELAY_MS - 1)
    expect(onSearch).not.toHaveBeenCalled()
    pause(1)
    expect(onSearch.mock.calls).toEqual([['invoice']])
    // Typing again starts the wait again.
    type(box, 's 2026', 100)
    pause(SEARCH_DELAY_MS)
    expect(onSearch.mock.calls).toEqual([['invoice'], ['invoices 2026']])
  })

  it('sends no text shorter than 3 characters, as the API counts them, and says why', () => {
    const { onSearch, box } = setup()
    type(box, 'in')
    pause(SEARCH_DELAY_MS)
    expect(screen.getByText('Type at least 3 characters')).toBeInTheDocument()
    expect(box).toHaveAccessibleDescription('Type at least 3 characters')
    expect(box).toBeInvalid()
    // Three emoji are three characters (six UTF-16 units); two are too few, spaces around them too.
    fireEvent.change(box, { target: { value: ' 🧾🧾 ' } })
    pause(SEARCH_DELAY_MS)
    expect(screen.getByText('Type at least 3 characters')).toBeInTheDocument()
    type(box, '🧾')
    pause(SEARCH_DELAY_MS)
    expect(screen.queryByText('Type at least 3 characters')).not.toBeInTheDocument()
    expect(onSearch.mock.calls).toEqual([['🧾🧾 🧾']])
    expect(searchTerm('x'.repeat(201)).problem).toBe('Use at most 200 characters')
    expect(searchTerm('x'.repeat(200)).problem).toBeNull()
  })

  it('sends at once on Enter, and clears with the Clear button or Escape', () => {
    const { onSearch, box, rerender } = setup()
    type(box, 'café')
    fireEvent.submit(box.form!)
    expect(onSearch.mock.calls).toEqual([['café']])
    rerender(<RunSearch q="café" onSearch={onSearch} />)
    pause(SEARCH_DELAY_MS)
    expect(onSearch).toHaveBeenCalledTimes(1) // the search is already the URL's
    fireEvent.click(screen.getByRole('button', { name: 'Clear the search' }))
    expect(box).toHaveValue('')
    expect(box).toHaveFocus()
    expect(onSearch.mock.calls.at(-1)).toEqual([''])
    rerender(<RunSearch q="" onSearch={onSearch} />)
    type(box, 'abc')
    fireEvent.keyDown(box, { key: 'Escape' })
    expect(box).toHaveValue('')
    pause(SEARCH_DELAY_MS)
    expect(onSearch).toHaveBeenCalledTimes(2)
  })

  it("shows the URL's search when it changes, keeping what is typed when it is the same", () => {
    const { onSearch, box, rerender } = setup('older')
    expect(box).toHaveValue('older')
    rerender(<RunSearch q="newer" onSearch={onSearch} />) // Back, Forward
    expect(box).toHaveValue('newer')
    // "newer one" is being typed when the search "newer one" reaches the URL: the space stays.
    type(box, ' one ')
    pause(SEARCH_DELAY_MS)
    expect(onSearch.mock.calls).toEqual([['newer one']])
    rerender(<RunSearch q="newer one" onSearch={onSearch} />)
    expect(box).toHaveValue('newer one ')
  })
})
