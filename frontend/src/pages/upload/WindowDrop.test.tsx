import { fireEvent, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { DropZone, readDrop } from '../../components/DropZone'
import { makeFile } from '../../test/fakes'
import { WindowDrop } from './WindowDrop'

/** A DataTransfer as a drop of these files gives it (jsdom has none). */
function dropOf(files: File[], extra: Partial<DataTransferItem>[] = []) {
  const items = [...files.map((file) => ({ kind: 'file', getAsFile: () => file, webkitGetAsEntry: () => null })), ...extra]
  return { types: ['Files'], files, items }
}

/** A dropped folder as Chromium's entries API shows it: batches of entries until an empty one. */
function folderEntry(fullPath: string, children: (File | FileSystemEntry)[]): FileSystemDirectoryEntry {
  const entries = children.map((child) =>
    child instanceof File
      ? ({ isDirectory: false, isFile: true, fullPath: `${fullPath}/${child.name}`, file: (ok: (f: File) => void) => ok(child) } as unknown as FileSystemEntry)
      : child,
  )
  return {
    isDirectory: true,
    isFile: false,
    fullPath,
    createReader: () => {
      const batches = [entries.slice(0, 2), entries.slice(2), []]
      return { readEntries: (ok: (batch: FileSystemEntry[]) => void) => ok(batches.shift() ?? []) }
    },
  } as unknown as FileSystemDirectoryEntry
}

describe('drops, folders and paste', () => {
  it('the window takes dropped files, with an overlay saying how many while they are dragged', () => {
    const onFiles = vi.fn()
    render(<WindowDrop onFiles={onFiles} />)
    const files = [makeFile('a.txt', 3), makeFile('b 🎉.txt', 4)]
    fireEvent.dragEnter(document.body, { dataTransfer: dropOf(files) })
    expect(screen.getByTestId('drop-overlay')).toHaveTextContent('Drop to add 2 files')
    fireEvent.dragOver(document.body, { dataTransfer: dropOf(files) })
    fireEvent.drop(document.body, { dataTransfer: dropOf(files) })
    expect(onFiles).toHaveBeenCalledWith(files)
    expect(screen.queryByTestId('drop-overlay')).not.toBeInTheDocument()
  })

  it('the overlay goes when the drag leaves the window, and a text drag shows none', () => {
    render(<WindowDrop onFiles={vi.fn()} />)
    fireEvent.dragEnter(document.body, { dataTransfer: dropOf([makeFile('a', 1)]) })
    fireEvent.dragLeave(document.body, { dataTransfer: dropOf([makeFile('a', 1)]) })
    expect(screen.queryByTestId('drop-overlay')).not.toBeInTheDocument()
    fireEvent.dragEnter(document.body, { dataTransfer: { types: ['text/plain'], items: [], files: [] } })
    expect(screen.queryByTestId('drop-overlay')).not.toBeInTheDocument()
  })

  it('a drop on a drop zone is the zone\'s, not the window\'s', () => {
    const onWindow = vi.fn()
    const onZone = vi.fn()
    render(
      <>
        <WindowDrop onFiles={onWindow} />
        <DropZone onFiles={onZone} />
      </>,
    )
    const file = makeFile('a.txt', 3)
    fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: dropOf([file]) })
    expect(onZone).toHaveBeenCalledWith([file])
    expect(onWindow).not.toHaveBeenCalled()
  })

  it('while disabled, it says so and takes nothing', () => {
    const onFiles = vi.fn()
    render(<WindowDrop onFiles={onFiles} disabled />)
    const files = [makeFile('a.txt', 3)]
    fireEvent.dragEnter(document.body, { dataTransfer: dropOf(files) })
    expect(screen.getByTestId('drop-overlay')).toHaveTextContent('Files can be added once this upload has ended')
    fireEvent.drop(document.body, { dataTransfer: dropOf(files) })
    fireEvent.paste(document.body, { clipboardData: { files } })
    expect(onFiles).not.toHaveBeenCalled()
  })

  it('pasted files are added, but not a paste into a text field', () => {
    const onFiles = vi.fn()
    render(
      <>
        <WindowDrop onFiles={onFiles} />
        <input aria-label="Label" />
      </>,
    )
    const file = makeFile('screenshot.png', 5)
    fireEvent.paste(screen.getByLabelText('Label'), { clipboardData: { files: [file] } })
    expect(onFiles).not.toHaveBeenCalled()
    fireEvent.paste(document.body, { clipboardData: { files: [file] } })
    expect(onFiles).toHaveBeenCalledWith([file])
  })

  it('a dropped folder gives every file in it with its path, without the folder stand-in', async () => {
    const onFiles = vi.fn()
    const loose = makeFile('loose.txt', 1)
    const inner = folderEntry('/photos/2024', [makeFile('c.jpg', 3)])
    const folder = folderEntry('/photos', [makeFile('a.jpg', 1), inner, makeFile('b.jpg', 2)])
    const standIn = makeFile('photos', 0)
    readDrop(
      {
        types: ['Files'],
        files: [loose, standIn],
        items: [
          { kind: 'file', getAsFile: () => loose, webkitGetAsEntry: () => null },
          { kind: 'file', getAsFile: () => standIn, webkitGetAsEntry: () => folder },
        ],
      } as unknown as DataTransfer,
      onFiles,
    )
    await waitFor(() => expect(onFiles).toHaveBeenCalled())
    const chosen = onFiles.mock.calls[0][0] as (File | { file: File; path: string })[]
    expect(chosen.map((c) => (c instanceof File ? c.name : c.path))).toEqual(['loose.txt', 'photos/a.jpg', 'photos/2024/c.jpg', 'photos/b.jpg'])
  })

  it('"Choose a folder" picks a folder and names each file by its path in it', async () => {
    const onFiles = vi.fn()
    render(<DropZone onFiles={onFiles} folders />)
    const input = screen.getByLabelText('Choose a folder')
    expect(input).toHaveAttribute('webkitdirectory')
    const file = makeFile('a.pdf', 3)
    Object.defineProperty(file, 'webkitRelativePath', { value: 'docs/a.pdf' })
    await userEvent.setup().upload(input, file)
    expect(onFiles).toHaveBeenCalledWith([{ file, path: 'docs/a.pdf' }])
  })
})
