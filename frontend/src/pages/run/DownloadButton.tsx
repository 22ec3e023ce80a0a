import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Button } from '../../components/Button'
import { ApiError, type ApiErrorCode, errorMessage, hasCode } from '../../lib/api'
import { useApp } from '../../lib/context'
import { startDownload } from '../../lib/download'
import { displayText } from '../../lib/format'
import type { FileOut } from '../../lib/types'

/** What each refusal means for the person who clicked; the API's message follows. */
const REFUSALS: Partial<Record<ApiErrorCode, string>> = {
  file_pending: 'Not downloadable yet: the file is not stored.',
  file_failed: 'Not downloadable: the file failed verification.',
  file_lost: 'Not downloadable: its recorded version is no longer in the bucket.',
  not_found: 'Not downloadable: the run or the file is gone.',
  network_error: 'Could not ask for a download link.',
}

export function downloadErrorText(error: unknown): string {
  const lead = (error instanceof ApiError && REFUSALS[error.code]) || 'Could not start the download.'
  return `${lead} ${errorMessage(error)}`
}

/**
 * Asks the API for a fresh download link (GET .../download: a presigned URL that lives minutes,
 * so never fetched before the click) and follows it; a refusal is said next to the file.
 */
export function DownloadButton({ file }: { file: FileOut }) {
  const { api } = useApp()
  const queryClient = useQueryClient()
  const name = displayText(file.name)
  const download = useMutation({
    mutationFn: () => api.downloadLink(file.run_id, file.id),
    onSuccess: (link) => startDownload(link.url),
    onError: (error) => {
      // The file changed since the page loaded it (lost, the run gone): show what it is now.
      if (hasCode(error, 'file_pending', 'file_failed', 'file_lost', 'not_found')) {
        void queryClient.invalidateQueries({ queryKey: ['run', file.run_id] })
      }
    },
  })
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button
        size="xs"
        onClick={() => download.mutate()}
        disabled={download.isPending}
        aria-label={`Download ${name}`}
        data-testid="download-file"
      >
        <svg aria-hidden="true" viewBox="0 0 20 20" className="h-3.5 w-3.5" fill="none" stroke="currentColor" strokeWidth="1.8">
          <path strokeLinecap="round" strokeLinejoin="round" d="M10 3v10m0 0-4-4m4 4 4-4M4 16h12" />
        </svg>
        {download.isPending ? 'Preparing…' : 'Download'}
      </Button>
      {download.isError && (
        <p role="alert" className="text-xs text-red-700" data-testid="download-error">
          <bdi>{displayText(downloadErrorText(download.error))}</bdi>
        </p>
      )}
    </div>
  )
}
