import type { SelectHTMLAttributes } from 'react'
import { controlClass } from './Field'

export interface Option {
  value: string
  label: string
}

/** A select of `options` (plain strings are their own label), with an optional first `empty` choice. */
export function Select({
  options,
  empty,
  ...props
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, 'children'> & {
  options: readonly (string | Option)[]
  /** The label of a first option whose value is '' (e.g. "Any status"). */
  empty?: string
}) {
  return (
    <select className={`${controlClass} pr-8`} {...props}>
      {empty !== undefined && <option value="">{empty}</option>}
      {options.map((o) => {
        const { value, label } = typeof o === 'string' ? { value: o, label: o } : o
        return (
          <option key={value} value={value}>
            {label}
          </option>
        )
      })}
    </select>
  )
}
