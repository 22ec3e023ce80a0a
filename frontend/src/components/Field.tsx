import { type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes, useId } from 'react'

/** The look of every text input, textarea and select. */
export const controlClass =
  'block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-slate-300 ring-inset placeholder:text-slate-400 focus:ring-2 focus:ring-teal-600 focus:ring-inset disabled:bg-slate-50 disabled:text-slate-500'

/** What a Field hands its control: the id its label points at, and the id of its hint. */
export interface ControlProps {
  id: string
  'aria-describedby'?: string
}

/**
 * A labelled form control: the label (with "(optional)" when it is), the control, and a hint the
 * control is described by. The control is rendered by `children`, given the ids to use.
 */
export function Field({
  label,
  optional = false,
  hint,
  className = '',
  children,
}: {
  label: string
  optional?: boolean
  hint?: ReactNode
  className?: string
  children: (control: ControlProps) => ReactNode
}) {
  const id = useId()
  const hintId = useId()
  return (
    <div className={`space-y-1 ${className}`.trim()}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
        {optional && <> <span className="font-normal text-slate-500">(optional)</span></>}
      </label>
      {children(hint ? { id, 'aria-describedby': hintId } : { id })}
      {hint && (
        <p id={hintId} className="text-xs text-slate-500">
          {hint}
        </p>
      )}
    </div>
  )
}

export function TextInput(props: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={controlClass} {...props} />
}

export function TextArea(props: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={controlClass} {...props} />
}
