import { Field, TextArea, TextInput } from '../../components/Field'
import { Select } from '../../components/Select'
import type { RunForm } from '../../upload/snapshot'

/** Run type, label and notes of the run an upload creates. */
export function RunFields({
  value,
  types,
  disabled,
  onChange,
}: {
  value: RunForm
  types: readonly string[]
  disabled: boolean
  onChange: (change: Partial<RunForm>) => void
}) {
  return (
    <div className="grid gap-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:grid-cols-2 sm:p-6">
      <Field label="Run type">
        {(control) => (
          <Select {...control} value={value.type} options={types} onChange={(e) => onChange({ type: e.target.value })} disabled={disabled} />
        )}
      </Field>
      <Field label="Label" optional>
        {(control) => (
          <TextInput
            {...control}
            value={value.label}
            onChange={(e) => onChange({ label: e.target.value })}
            maxLength={200}
            disabled={disabled}
            placeholder="e.g. prod search head"
          />
        )}
      </Field>
      <Field label="Notes" optional hint="Anything the people processing this run should know." className="sm:col-span-2">
        {(control) => (
          <TextArea
            {...control}
            value={value.notes}
            onChange={(e) => onChange({ notes: e.target.value })}
            maxLength={10_000}
            rows={2}
            disabled={disabled}
          />
        )}
      </Field>
    </div>
  )
}
