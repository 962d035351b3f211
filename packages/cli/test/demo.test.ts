// `npm run demo` as the README's first command runs it: the whole main job on an embedded
// PostgreSQL, with nothing but Node.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const demo = fileURLToPath(new URL('../../../scripts/demo.ts', import.meta.url))

describe('npm run demo', () => {
  it('snapshots PGlite twice and prints the diff of the changes it made', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [demo], {
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    })
    expect(stdout).toContain('+ column public.customers.country')
    expect(stdout).toContain('~ 42 plan: "free" → "business"')
    expect(stdout).toContain('~ "SKU-0007" price: "49.99" → "54.99"; attrs: replace /color "black"')
    expect(stdout).toContain('+ 50001 [50001,42,"SKU-0007",2,"2026-11-24 12:00:00+00","placed"]')
    expect(stdout).toContain('2 schema changes, 3 tables with changed data, rows +1 -1 ~4')
    expect(stdout).toContain('(exit code 1)')
  }, 120_000)
})
