import { type DragEvent, useId, useRef, useState } from 'react'

/**
 * Drop files here, or use the file picker (keyboard: Tab to "Choose files", then Enter or Space).
 */
export function DropZone({
  onFiles,
  disabled = false,
  title = 'Drop files here',
  buttonLabel = 'Choose files',
  testId = 'file-input',
}: {
  onFiles: (files: File[]) => void
  disabled?: boolean
  title?: string
  buttonLabel?: string
  /** data-testid of the file input, for browser tests. */
  testId?: string
}) {
  const [dragging, setDragging] = useState(false)
  const depth = useRef(0)
  const hintId = useId()
  const inputId = useId()

  const accept = (list: FileList | null) => {
    const files = list ? Array.from(list) : []
    if (files.length && !disabled) onFiles(files)
  }
  const onDragEnter = (e: DragEvent) => {
    e.preventDefault()
    depth.current += 1
    if (!disabled) setDragging(true)
  }
  const onDragLeave = (e: DragEvent) => {
    e.preventDefault()
    depth.current -= 1
    if (depth.current <= 0) setDragging(false)
  }
  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    depth.current = 0
    setDragging(false)
    accept(e.dataTransfer.files)
  }

  return (
    <div
      onDragEnter={onDragEnter}
      onDragOver={(e) => e.preventDefault()}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
      data-testid="drop-zone"
      className={`flex flex-col items-center justify-center gap-3 rounded-xl border-2 border-dashed px-6 py-10 text-center transition-colors ${
        disabled
          ? 'border-slate-200 bg-slate-50 opacity-60'
          : dragging
            ? 'border-teal-500 bg-teal-50'
            : 'border-slate-300 bg-white hover:border-slate-400'
      }`}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" className="h-10 w-10 text-slate-400" fill="none" stroke="currentColor" strokeWidth="1.5">
        <path strokeLinecap="round" strokeLinejoin="round" d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
      </svg>
      <div>
        <p className="font-medium text-slate-800">{dragging ? 'Release to add the files' : title}</p>
        <p id={hintId} className="text-sm text-slate-500">
          or pick them from your computer; any type, several at once
        </p>
      </div>
      {/* One control: the real file input (visually hidden, keyboard-focusable) and its label
          styled as the button; the label shows the input's focus ring. */}
      <input
        id={inputId}
        type="file"
        multiple
        className="peer sr-only"
        disabled={disabled}
        aria-describedby={hintId}
        onChange={(e) => {
          accept(e.target.files)
          e.target.value = ''
        }}
        data-testid={testId}
      />
      <label
        htmlFor={inputId}
        className="cursor-pointer rounded-lg bg-white px-4 py-2 text-sm font-semibold text-teal-800 shadow-sm ring-1 ring-teal-600/40 ring-inset peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-teal-600 peer-disabled:cursor-not-allowed hover:bg-teal-50"
      >
        {buttonLabel}
      </label>
    </div>
  )
}
