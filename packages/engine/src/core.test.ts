// `@dbsnap/engine/core` must stay free of database drivers and the AWS SDK, directly or through
// anything it imports: a program loads it in a child process and lists every module it loaded
// (layers.test.ts checks the import graph of the sources, lazy imports included).

import { execFileSync } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)))

/**
 * Imports `specifier` from the sources (the `@dbsnap/source` condition, `.js` specifiers mapped
 * to the `.ts` files beside them, types stripped by Node) and prints every module URL resolved.
 */
const PROGRAM = `
import { registerHooks } from 'node:module'
const loaded = []
registerHooks({
  resolve(specifier, context, next) {
    let result
    try {
      result = next(specifier, context)
    } catch (err) {
      if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw err
      result = next(specifier.replace(/\\.js$/, '.ts'), context)
    }
    loaded.push(result.url)
    return result
  },
})
const module = await import(process.argv[1])
process.stdout.write(JSON.stringify({ exports: Object.keys(module), loaded }))
`

function load(specifier: string): { exports: string[]; loaded: string[] } {
  const out = execFileSync(
    process.execPath,
    ['--conditions=@dbsnap/source', '--input-type=module', '--eval', PROGRAM, specifier],
    { cwd: PACKAGE_ROOT, encoding: 'utf8' },
  )
  return JSON.parse(out) as { exports: string[]; loaded: string[] }
}

const FORBIDDEN = /\/node_modules\/(pg|pg-copy-streams|mysql2|mongodb|bson|@aws-sdk\/[^/]+)\//

describe('@dbsnap/engine/core', () => {
  it('loads errors, logging, settings and trace ids, and no driver or AWS SDK', () => {
    const { exports, loaded } = load('@dbsnap/engine/core')
    expect(exports).toEqual(
      expect.arrayContaining(['DbsnapError', 'createLogger', 'parseEnv', 'withTraceId']),
    )
    expect(loaded.some((url) => url.endsWith('/src/core.ts'))).toBe(true)
    expect(loaded.filter((url) => FORBIDDEN.test(url))).toEqual([])
  })
})
