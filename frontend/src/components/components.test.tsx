import { act, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { Network } from '../lib/network'
import { makeFile } from '../test/fakes'
import { Alert } from './Alert'
import { ConnectivityBanner } from './ConnectivityBanner'
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

  it('the connectivity banner is an always-present live region that says offline or unreachable', async () => {
    const net = new Network(null)
    let answer: () => void = () => undefined
    const onRetry = vi.fn(() => new Promise<void>((resolve) => (answer = resolve)))
    render(<ConnectivityBanner network={net} apiUrl="http://api.test" onRetry={onRetry} />)
    const live = screen.getByRole('status', { name: 'Connection' })
    expect(live).toHaveAttribute('aria-live', 'polite')
    expect(live).toBeEmptyDOMElement()

    act(() => net.setOnline(false))
    expect(live).toHaveTextContent(
      'You are offline. Uploads pause and continue when the connection is back; the lists refresh then.',
    )
    expect(screen.queryByRole('button')).not.toBeInTheDocument()

    act(() => {
      net.setOnline(true)
      net.apiFailed()
    })
    expect(live).toHaveTextContent('Cannot reach the Inlet API at http://api.test. Retrying…')
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: 'Try again' }))
    const trying = screen.getByRole('button', { name: 'Trying…' })
    expect(trying).toHaveFocus()
    await user.click(trying) // one try at a time
    expect(onRetry).toHaveBeenCalledTimes(1)
    await act(async () => answer())
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument()

    act(() => net.apiAnswered())
    expect(live).toBeEmptyDOMElement()
  })
})
