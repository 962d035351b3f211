import { ErrorCode } from '@dbsnap/engine'
import { describe, expect, it } from 'vitest'
import { ExitCode, exitCodeFor } from './exit-codes.js'

describe('exitCodeFor', () => {
  it.each([
    ['INVALID_ARGUMENT', ExitCode.USAGE],
    ['CONFIG_INVALID', ExitCode.USAGE],
    ['OUTPUT_INVALID', ExitCode.USAGE],
    ['CONNECTION_URL_INVALID', ExitCode.USAGE],
    ['CONNECTION_SCHEME_UNSUPPORTED', ExitCode.USAGE],
    ['CONNECTION_REFUSED', ExitCode.CONNECTION],
    ['CONNECTION_AUTH_FAILED', ExitCode.CONNECTION],
    ['TARGET_NOT_EMPTY', ExitCode.TARGET],
    ['RESTORE_FAILED', ExitCode.TARGET],
    ['ABORTED', ExitCode.ABORTED],
    ['INTERNAL', ExitCode.INTERNAL],
  ] as const)('%s -> %d', (code, exit) => {
    expect(exitCodeFor(code)).toBe(exit)
  })

  it('gives every engine error code a documented exit code', () => {
    const documented = new Set<number>(Object.values(ExitCode))
    for (const code of Object.values(ErrorCode))
      expect(documented.has(exitCodeFor(code))).toBe(true)
  })
})
