import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { makeFile } from '../test/fakes'
import { Alert } from './Alert'
import { DropZone } from './DropZone'
import { ProgressBar } from './ProgressBar'
import { StatusBadge } from './StatusBadge'

describe('components', () => {
  it('a status badge says its status in words, not only in color', () => {
    render(<StatusBadge status="stored" />)
    expect(screen.getByText('stored')).toHaveAttribute('data-status', 'stored')
  })

  it('a progress bar exposes its value', () => {
    render(<ProgressBar value={0.4567} label="Upload of a.bin" />)
    const bar = screen.getByRole('progressbar', { name: 'Upload of a.bin' })
    expect(bar).toHaveAttribute('aria-valuenow', '45.6')
    expect(bar).toHaveAttribute('aria-valuetext', '45.6%')
  })

  it('an error alert is announced; an info one is a status', () => {
    render(
      <>
        <Alert tone="error" title="Bad">
          x
        </Alert>
        <Alert tone="info">y</Alert>
      </>,
    )
    expect(screen.getByRole('alert')).toHaveTextContent('Bad')
    expect(screen.getByRole('status')).toHaveTextContent('y')
  })

  it('the drop zone takes dropped files and picked files', async () => {
    const onFiles = vi.fn()
    render(<DropZone onFiles={onFiles} />)
    const zone = screen.getByTestId('drop-zone')
    const file = makeFile('dropped.txt', 3)
    const dataTransfer = { files: [file], types: ['Files'] }
    const { fireEvent } = await import('@testing-library/react')
    fireEvent.dragEnter(zone, { dataTransfer })
    expect(screen.getByText('Release to add the files')).toBeInTheDocument()
    fireEvent.drop(zone, { dataTransfer })
    expect(onFiles).toHaveBeenCalledWith([file])

    const picked = makeFile('picked.txt', 3)
    await userEvent.setup().upload(screen.getByLabelText('Choose files'), picked)
    expect(onFiles).toHaveBeenLastCalledWith([picked])
  })

  it('a disabled drop zone ignores drops', async () => {
    const onFiles = vi.fn()
    render(<DropZone onFiles={onFiles} disabled />)
    const { fireEvent } = await import('@testing-library/react')
    fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files: [makeFile('a', 1)] } })
    expect(onFiles).not.toHaveBeenCalled()
  })
})
