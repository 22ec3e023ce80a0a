// Runtime configuration: `config.json` beside index.html, written at deploy time
// (local/web.py for the dev stack; the same file on AWS). The page is built once and
// deployed anywhere; nothing environment-specific is compiled in.

export interface InletConfig {
  /** Base URL of the Inlet API, e.g. http://127.0.0.1:8000 */
  apiUrl: string
  /** Run types offered in the upload form and the runs filter. */
  runTypes: string[]
  /** Preselected run type. */
  defaultRunType: string
  /** The API wants a token (INLET_AUTH=required): the page asks for one up front. */
  authRequired?: boolean
}

export const DEFAULT_RUN_TYPES = ['ds_etc', 'instance_etc', 'app_bundle', 'single_conf']
/** Used by `npm run dev` when no config.json is served (the dev stack's API). */
export const DEV_API_URL = import.meta.env.VITE_INLET_API_URL ?? 'http://127.0.0.1:8000'

export function parseConfig(raw: unknown): InletConfig {
  if (raw === null || typeof raw !== 'object') throw new Error('config.json is not a JSON object')
  const data = raw as Record<string, unknown>
  if (typeof data.apiUrl !== 'string' || !/^https?:\/\//.test(data.apiUrl)) {
    throw new Error('config.json must hold "apiUrl", an http(s) URL')
  }
  const runTypes =
    Array.isArray(data.runTypes) && data.runTypes.every((t) => typeof t === 'string') && data.runTypes.length
      ? (data.runTypes as string[])
      : DEFAULT_RUN_TYPES
  const defaultRunType =
    typeof data.defaultRunType === 'string' && runTypes.includes(data.defaultRunType)
      ? data.defaultRunType
      : runTypes.includes('app_bundle')
        ? 'app_bundle'
        : runTypes[0]
  return {
    apiUrl: data.apiUrl.replace(/\/+$/, ''),
    runTypes,
    defaultRunType,
    ...(data.authRequired === true ? { authRequired: true } : {}),
  }
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<InletConfig> {
  let response: Response
  try {
    response = await fetchImpl('./config.json', { cache: 'no-store' })
  } catch {
    response = new Response(null, { status: 404 })
  }
  const isJson = (response.headers.get('content-type') ?? '').includes('json')
  if (!response.ok || !isJson) {
    if (import.meta.env.DEV) return parseConfig({ apiUrl: DEV_API_URL })
    throw new Error(`config.json could not be loaded (HTTP ${response.status})`)
  }
  return parseConfig(await response.json())
}
