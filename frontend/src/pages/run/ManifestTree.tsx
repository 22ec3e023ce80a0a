import { useCallback, useMemo, useState } from 'react'
import { CopyButton } from '../../components/CopyButton'
import { displayText, formatBytes } from '../../lib/format'
import { childrenOf, initiallyOpen, type TreeDir, type TreeFile } from './manifest'

/** Rows a folder shows at first, and how many more each "Show more" adds: a folder of 10,000
 *  files stays quick to open. */
export const SHOW_STEP = 500

type Toggle = (path: string) => void

/**
 * An archive's folders and files. Only open folders are rendered (a closed one is one row,
 * whatever it holds), each folder a disclosure button (`aria-expanded`) reachable with Tab.
 */
export function ManifestTree({ root, label }: { root: TreeDir; label: string }) {
  // Kept by path, so folders stay open while more pages of entries arrive.
  const [open, setOpen] = useState(() => initiallyOpen(root))
  const toggle = useCallback<Toggle>(
    (path) =>
      setOpen((previous) => {
        const next = new Set(previous)
        if (!next.delete(path)) next.add(path)
        return next
      }),
    [],
  )
  return (
    <ul aria-label={label} className="space-y-0.5 text-sm" data-testid="manifest-tree">
      <FolderChildren dir={root} open={open} toggle={toggle} />
    </ul>
  )
}

function FolderChildren({ dir, open, toggle }: { dir: TreeDir; open: Set<string>; toggle: Toggle }) {
  const [shown, setShown] = useState(SHOW_STEP)
  const children = useMemo(() => childrenOf(dir), [dir])
  const hidden = children.length - shown
  return (
    <>
      {children.slice(0, shown).map((node, i) =>
        node.kind === 'dir' ? (
          <Folder key={`d:${node.name}`} dir={node} open={open} toggle={toggle} />
        ) : (
          <File key={`f:${i}:${node.name}`} file={node} />
        ),
      )}
      {hidden > 0 && (
        <li>
          <button
            type="button"
            onClick={() => setShown((n) => n + SHOW_STEP)}
            className="rounded px-1 text-xs font-medium text-teal-800 underline underline-offset-2 hover:text-teal-900 focus-visible:outline-2 focus-visible:outline-teal-700"
          >
            Show {Math.min(SHOW_STEP, hidden).toLocaleString()} more ({hidden.toLocaleString()} not shown in{' '}
            <bdi>{dir.path ? `${displayText(dir.name)}/` : 'the top folder'}</bdi>)
          </button>
        </li>
      )}
    </>
  )
}

function Folder({ dir, open, toggle }: { dir: TreeDir; open: Set<string>; toggle: Toggle }) {
  const isOpen = open.has(dir.path)
  const files = `${dir.fileCount.toLocaleString()} ${dir.fileCount === 1 ? 'file' : 'files'}`
  return (
    <li data-testid="manifest-dir" data-path={dir.path}>
      <button
        type="button"
        aria-expanded={isOpen}
        onClick={() => toggle(dir.path)}
        className="flex w-full min-w-0 items-baseline gap-2 rounded px-1 py-0.5 text-left hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-teal-700"
      >
        <span aria-hidden="true" className="w-3 shrink-0 text-slate-500">
          {isOpen ? '▾' : '▸'}
        </span>
        <span className="min-w-0 font-medium break-all text-slate-900">
          <bdi>{displayText(dir.name)}</bdi>/
        </span>
        {/* Spaced in the button's name too (flex items are not, in every engine). */}
        {' '}
        <span className="shrink-0 text-xs text-slate-500">
          {files} · {formatBytes(dir.bytes)}
        </span>
      </button>
      {isOpen && (
        <ul className="ml-2.5 space-y-0.5 border-l border-slate-200 pl-3">
          <FolderChildren dir={dir} open={open} toggle={toggle} />
        </ul>
      )}
    </li>
  )
}

function File({ file }: { file: TreeFile }) {
  const path = displayText(file.path)
  return (
    <li className="flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1 px-1 py-0.5" data-testid="manifest-file" data-path={file.path}>
      <span aria-hidden="true" className="w-3 shrink-0 text-slate-400">
        ·
      </span>
      <span className="min-w-0 break-all text-slate-900">
        <bdi>{displayText(file.name)}</bdi>
      </span>
      <span className="shrink-0 text-xs text-slate-500">{formatBytes(file.size)}</span>
      {file.sha256 && (
        <span className="flex min-w-0 items-center gap-1">
          {/* The whole sha256 is there (for copying by hand and screen readers); the eye gets its start. */}
          <code className="inline-block max-w-[14ch] truncate font-mono text-xs text-slate-600" data-testid="entry-sha256">
            {file.sha256}
          </code>
          <CopyButton text={file.sha256} label={`Copy the sha256 of ${path}`} />
        </span>
      )}
    </li>
  )
}
