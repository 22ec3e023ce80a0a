import { useEffect, useEffectEvent, useId, useRef, useState } from 'react'
import { controlClass } from '../../components/Field'

/** The API's bounds for `q=` (shorter text has no trigram for its index to look up). */
const SEARCH_MIN = 3
const SEARCH_MAX = 200
/** How long typing pauses before the search is sent. */
export const SEARCH_DELAY_MS = 300

/** What a search for `text` would send: the trimmed text, or why it cannot be sent. */
export function searchTerm(text: string): { term: string; problem: string | null } {
  const term = text.trim()
  // The API counts characters, not UTF-16 units: "🎉🎉🎉" is three.
  const length = [...term].length
  if (length > 0 && length < SEARCH_MIN) return { term, problem: `Type at least ${SEARCH_MIN} characters` }
  if (length > SEARCH_MAX) return { term, problem: `Use at most ${SEARCH_MAX} characters` }
  return { term, problem: null }
}

/**
 * The label search: sent once typing pauses (`delayMs`), or at once on Enter; text the API would
 * refuse is not sent, and says why under the box. `q` is the search in the URL, which Back and
 * Forward change under the box; `onSearch` is called with a different one, to put it there.
 */
export function RunSearch({ q, onSearch, delayMs = SEARCH_DELAY_MS }: { q: string; onSearch: (term: string) => void; delayMs?: number }) {
  const [text, setText] = useState(q)
  const [shownQ, setShownQ] = useState(q)
  const [problem, setProblem] = useState(() => searchTerm(q).problem)
  const input = useRef<HTMLInputElement>(null)
  const id = useId()
  const hintId = useId()
  // The URL's search changed (Back, Forward, a link): show it, unless it is what is typed here.
  if (q !== shownQ) {
    setShownQ(q)
    if (searchTerm(text).term !== q) setText(q)
  }

  const submit = (value: string) => {
    const { term, problem } = searchTerm(value)
    setProblem(problem)
    if (!problem && term !== q) onSearch(term)
  }
  // Sent with what the page shows when the wait ends (the filters may change meanwhile).
  const typingPaused = useEffectEvent(() => submit(text))
  useEffect(() => {
    const timer = setTimeout(typingPaused, delayMs)
    return () => clearTimeout(timer)
  }, [text, delayMs])

  return (
    <form
      role="search"
      aria-label="Runs by label"
      className="w-full space-y-1 sm:w-80"
      onSubmit={(e) => {
        e.preventDefault()
        submit(text)
      }}
    >
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        Search labels
      </label>
      <div className="flex gap-2">
        <input
          ref={input}
          id={id}
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && text) {
              e.preventDefault()
              setText('')
            }
          }}
          placeholder="Part of a label"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={problem ? hintId : undefined}
          aria-invalid={problem ? true : undefined}
          // The browser's own clear button is replaced by ours, which every browser shows.
          className={`${controlClass} min-w-0 [&::-webkit-search-cancel-button]:appearance-none`}
        />
        {text && (
          <button
            type="button"
            className="shrink-0 rounded-lg px-2 text-sm font-medium text-teal-800 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-teal-700"
            aria-label="Clear the search"
            onClick={() => {
              setText('')
              submit('')
              input.current?.focus() // this button goes away with the text
            }}
          >
            Clear
          </button>
        )}
      </div>
      <p id={hintId} className="min-h-4 text-xs text-amber-800" aria-live="polite">
        {problem}
      </p>
    </form>
  )
}
