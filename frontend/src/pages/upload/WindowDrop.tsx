import { useEffect, useEffectEvent, useState } from 'react'
import { readDrop } from '../../components/DropZone'
import { fileCount } from '../../lib/format'
import type { Chosen } from '../../upload/snapshot'

/**
 * The whole window takes files: dropped anywhere (with an overlay while they are dragged over
 * the page) or pasted (Ctrl/Cmd+V outside text fields). Drop zones keep their own drops. While
 * `disabled` nothing is taken, but a drop still never makes the browser open the file instead of
 * the page.
 */
export function WindowDrop({ onFiles, disabled = false }: { onFiles: (files: Chosen[]) => void; disabled?: boolean }) {
  /** Items being dragged over the page outside drop zones; null when nothing is. */
  const [dragged, setDragged] = useState<number | null>(null)
  const take = useEffectEvent((files: Chosen[]) => {
    if (!disabled && files.length) onFiles(files)
  })
  const refuses = useEffectEvent(() => disabled)

  useEffect(() => {
    // dragenter and dragleave come for every element crossed: the drag left the window when
    // they are even again
    let depth = 0
    const withFiles = (e: DragEvent): e is DragEvent & { dataTransfer: DataTransfer } =>
      e.dataTransfer?.types.includes('Files') ?? false
    const onZone = (e: Event) => e.target instanceof Element && e.target.closest('[data-drop-zone]') !== null
    const count = (data: DataTransfer) => Array.from(data.items ?? []).filter((item) => item.kind === 'file').length

    const enter = (e: DragEvent) => {
      if (!withFiles(e)) return
      e.preventDefault()
      depth += 1
      setDragged(onZone(e) ? null : count(e.dataTransfer))
    }
    const over = (e: DragEvent) => {
      if (!withFiles(e)) return
      e.preventDefault() // else the browser leaves the page to open the file
      if (onZone(e)) return
      e.dataTransfer.dropEffect = refuses() ? 'none' : 'copy'
      setDragged((n) => n ?? count(e.dataTransfer))
    }
    const leave = (e: DragEvent) => {
      if (!withFiles(e)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) setDragged(null)
    }
    const drop = (e: DragEvent) => {
      if (!withFiles(e)) return
      e.preventDefault()
      depth = 0
      setDragged(null)
      if (!onZone(e) && !refuses()) readDrop(e.dataTransfer, take)
    }
    const paste = (e: ClipboardEvent) => {
      const target = e.target instanceof Element ? e.target : null
      if (target?.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])')) return
      const files = Array.from(e.clipboardData?.files ?? [])
      if (files.length === 0) return
      e.preventDefault()
      take(files)
    }

    window.addEventListener('dragenter', enter)
    window.addEventListener('dragover', over)
    window.addEventListener('dragleave', leave)
    window.addEventListener('drop', drop)
    document.addEventListener('paste', paste)
    return () => {
      window.removeEventListener('dragenter', enter)
      window.removeEventListener('dragover', over)
      window.removeEventListener('dragleave', leave)
      window.removeEventListener('drop', drop)
      document.removeEventListener('paste', paste)
    }
  }, [])

  if (dragged === null) return null
  return (
    <div
      data-testid="drop-overlay"
      className="pointer-events-none fixed inset-0 z-50 flex items-center justify-center bg-black/40 p-6"
    >
      <p className="rounded-2xl border-2 border-dashed border-teal-500 bg-white px-8 py-6 text-center text-lg font-semibold text-slate-900 shadow-xl">
        {disabled
          ? 'Files can be added once this upload has ended'
          : dragged > 0
            ? `Drop to add ${fileCount(dragged)}`
            : 'Drop to add the files'}
        {!disabled && <span className="block text-sm font-normal text-slate-600">A folder is added with everything in it.</span>}
      </p>
    </div>
  )
}
