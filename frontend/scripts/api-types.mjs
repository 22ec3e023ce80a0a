// The page's TypeScript types for the HTTP contract, generated from docs/openapi.json (the
// server's pydantic models; the server's tests keep that file equal to GET /v1/openapi.json).
//
//   node scripts/api-types.mjs          write src/lib/api-schema.ts   (npm run api:types)
//   node scripts/api-types.mjs --check  regenerate into a temp file and fail if it differs
//                                       from the committed one       (npm run api:check)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'

const SOURCE = new URL('../../docs/openapi.json', import.meta.url)
const TARGET = fileURLToPath(new URL('../src/lib/api-schema.ts', import.meta.url))

const HEADER = `// GENERATED FILE: do not edit. Generated from docs/openapi.json by \`npm run api:types\`
// (openapi-typescript); \`npm run api:check\` fails when it is out of date. To change the contract,
// change the server's models, regenerate docs/openapi.json, then run \`npm run api:types\`.

`

async function generate() {
  const ast = await openapiTS(SOURCE)
  return HEADER + astToString(ast)
}

const check = process.argv.includes('--check')
const text = await generate()
if (!check) {
  writeFileSync(TARGET, text)
  console.log('wrote src/lib/api-schema.ts from docs/openapi.json')
} else {
  const dir = mkdtempSync(join(tmpdir(), 'inlet-api-types-'))
  try {
    const fresh = join(dir, 'api-schema.ts')
    writeFileSync(fresh, text)
    let committed = null
    try {
      committed = readFileSync(TARGET, 'utf8')
    } catch {
      // missing: reported below
    }
    if (committed !== readFileSync(fresh, 'utf8')) {
      console.error(
        committed === null
          ? 'src/lib/api-schema.ts is missing: run npm run api:types'
          : 'src/lib/api-schema.ts is out of date with docs/openapi.json: run npm run api:types',
      )
      process.exitCode = 1
    } else {
      console.log('src/lib/api-schema.ts matches docs/openapi.json')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
