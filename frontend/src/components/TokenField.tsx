import { useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useId, useState } from 'react'
import { loadToken, saveToken } from '../lib/token'
import { Button } from './Button'

/** The API token: pasted once, kept in this browser, sent with every API call. Shown when the
 * API requires one (config.json `authRequired`) or a token is already saved. */
export function TokenField({ required }: { required: boolean }) {
  const queryClient = useQueryClient()
  const id = useId()
  const [saved, setSaved] = useState(() => loadToken() !== null)
  const [value, setValue] = useState('')
  if (!required && !saved) return null

  const store = (token: string) => {
    saveToken(token)
    setSaved(loadToken() !== null)
    setValue('')
    // Everything shown so far was fetched with the old token (or none).
    void queryClient.invalidateQueries()
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (value.trim()) store(value)
  }

  return (
    // On a phone, one line under the logo and the menu: the input takes the room left, and the
    // state is said by the placeholder (and to screen readers by the hint) rather than beside it.
    <form onSubmit={submit} className="flex w-full items-center gap-2 sm:ml-auto sm:w-auto sm:flex-wrap" aria-label="Authentication">
      <label htmlFor={id} className="text-xs font-medium text-slate-700">
        API token
      </label>
      <input
        id={id}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder={saved ? 'saved; paste to replace' : 'inlet_…'}
        aria-describedby={`${id}-state`}
        className="w-44 min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1 text-xs focus-visible:outline-2 focus-visible:outline-teal-700 sm:flex-none"
      />
      <Button type="submit" size="xs" disabled={!value.trim()}>
        Save
      </Button>
      {saved && (
        <Button size="xs" onClick={() => store('')}>
          Forget
        </Button>
      )}
      <span id={`${id}-state`} className={`sr-only text-xs sm:not-sr-only ${saved ? 'text-emerald-700' : 'text-amber-700'}`}>
        {saved ? 'Token saved in this browser' : 'This Inlet needs a token: ask your admin'}
      </span>
    </form>
  )
}
