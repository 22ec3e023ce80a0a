import { type DragEvent, type ReactNode, type Ref, useId, useRef, useState } from 'react'
import type { Chosen } from '../upload/snapshot'

/**
 * Drop files or folders here, or use the pickers (keyboard: Tab to "Choose files", then Enter or
 * Space). Touch screens cannot drag files, so they get the pickers only, without the drop text.
 * A drop on the zone is the zone's: the page-wide drop (WindowDrop) leaves `[data-drop-zone]` alone.
 */
export function DropZone({
  onFiles,
  disabled = false,
  title = 'Drop files or folders here',
  buttonLabel = 'Choose files',
  folders = false,
  compact = false,
  testId = 'file-input',
  inputRef,
}: {
  onFiles: (files: Chosen[]) => void
  disabled?: boolean
  title?: string
  buttonLabel?: ReactNode
  /** Also offer "Choose a folder" (every file in it, named by its path inside the folder). */
  folders?: boolean
  /** One line, for a drop target inside a list. */
  compact?: boolean
  /** data-testid of the file input (the folder input's is this + `-folder`), for browser tests. */
  testId?: string
  inputRef?: Ref<HTMLInputElement>
}) {
  const [dragging, setDragging] = useState(false)
  const depth = useRef(0)

  const accept = (files: Chosen[]) => {
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
    if (!disabled) readDrop(e.dataTransfer, accept)
  }

  return (
    <div
      onDragEnter={onDragEnter}
      onDragOver={(e) => e.preventDefault()}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
      data-drop-zone=""
      data-testid="drop-zone"
      className={`flex flex-wrap items-center rounded-xl border-2 border-dashed transition-colors ${
        compact ? 'gap-x-3 gap-y-2 px-3 py-2' : 'justify-center gap-x-4 gap-y-3 px-4 py-6 text-center pointer-coarse:py-4'
      } ${
        disabled
          ? 'border-slate-200 bg-slate-50 opacity-60'
          : dragging
            ? 'border-teal-500 bg-teal-50'
            : 'border-slate-300 bg-white hover:border-slate-400'
      }`}
    >
      {!compact && (
        <svg aria-hidden="true" viewBox="0 0 24 24" className="h-8 w-8 text-slate-400 pointer-coarse:hidden" fill="none" stroke="currentColor" strokeWidth="1.5">
          <path strokeLinecap="round" strokeLinejoin="round" d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
        </svg>
      )}
      <p className={`text-slate-800 pointer-coarse:hidden ${compact ? 'text-sm' : 'font-medium'}`}>
        {dragging ? 'Release to add the files' : title}
      </p>
      <div className="flex flex-wrap items-center justify-center gap-2">
        <Picker label={buttonLabel} disabled={disabled} onFiles={accept} testId={testId} inputRef={inputRef} small={compact} />
        {/* phones and tablets cannot pick a folder */}
        {folders && (
          <span className="pointer-coarse:hidden">
            <Picker label="Choose a folder" disabled={disabled} onFiles={accept} testId={`${testId}-folder`} small={compact} folder />
          </span>
        )}
      </div>
    </div>
  )
}

/** One control: the real file input (visually hidden, keyboard-focusable) and its label styled as
 *  the button; the label shows the input's focus ring. */
function Picker({
  label,
  disabled,
  onFiles,
  testId,
  inputRef,
  small,
  folder = false,
}: {
  label: ReactNode
  disabled: boolean
  onFiles: (files: Chosen[]) => void
  testId: string
  inputRef?: Ref<HTMLInputElement>
  small: boolean
  folder?: boolean
}) {
  const id = useId()
  return (
    <span>
      <input
        id={id}
        ref={inputRef}
        // not in React's types: the browser then picks a folder and gives every file in it
        {...(folder ? { webkitdirectory: '' } : {})}
        type="file"
        multiple
        className="peer sr-only"
        disabled={disabled}
        onChange={(e) => {
          onFiles(chosenFromList(e.target.files))
          e.target.value = ''
        }}
        data-testid={testId}
      />
      <label
        htmlFor={id}
        className={`inline-block cursor-pointer rounded-lg bg-white font-semibold text-teal-800 shadow-sm ring-1 ring-teal-600/40 ring-inset peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-teal-600 peer-disabled:cursor-not-allowed hover:bg-teal-50 ${
          small ? 'px-3 py-1.5 text-sm' : 'px-4 py-2 text-sm'
        }`}
      >
        {label}
      </label>
    </span>
  )
}

/** Files from a picker; those of a chosen folder carry their path inside it (`docs/a.pdf`). */
export function chosenFromList(list: FileList | null): Chosen[] {
  return Array.from(list ?? [], (file) => (file.webkitRelativePath ? { file, path: file.webkitRelativePath } : file))
}

/**
 * The files of a drop: plain files as they are, each dropped folder walked (its files named by
 * their path from the folder dropped). `dataTransfer.files` also holds a 0-byte stand-in per
 * folder, so folders are told apart through their entries, which must be taken during the drop
 * event itself. `onFiles` is called at once when no folder was dropped, later otherwise.
 */
export function readDrop(data: DataTransfer, onFiles: (files: Chosen[]) => void): void {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file')
  if (items.length === 0) {
    onFiles(Array.from(data.files ?? []))
    return
  }
  const files: File[] = []
  const folders: FileSystemDirectoryEntry[] = []
  for (const item of items) {
    const entry = item.webkitGetAsEntry?.()
    if (entry?.isDirectory) folders.push(entry as FileSystemDirectoryEntry)
    else {
      const file = item.getAsFile()
      if (file) files.push(file)
    }
  }
  if (folders.length === 0) onFiles(files)
  else void Promise.all(folders.map(filesInFolder)).then((found) => onFiles([...files, ...found.flat()]))
}

/** Every file under `folder`; one that cannot be read (removed meanwhile, no permission) is left out. */
async function filesInFolder(folder: FileSystemDirectoryEntry): Promise<Chosen[]> {
  const reader = folder.createReader()
  const found: Chosen[] = []
  for (;;) {
    // readEntries gives a batch at a time (100 in Chromium) until it gives an empty one
    const batch = await new Promise<FileSystemEntry[]>((ok) => reader.readEntries(ok, () => ok([])))
    if (batch.length === 0) return found
    for (const entry of batch) {
      if (entry.isDirectory) found.push(...(await filesInFolder(entry as FileSystemDirectoryEntry)))
      else {
        const file = await new Promise<File | null>((ok) => (entry as FileSystemFileEntry).file(ok, () => ok(null)))
        if (file) found.push({ file, path: entry.fullPath.replace(/^\//, '') })
      }
    }
  }
}
