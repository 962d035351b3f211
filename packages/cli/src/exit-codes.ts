// Process exit codes of `dbsnap`, a public contract for scripts and CI (docs/errors.md).

import type { ErrorCode } from '@dbsnap/engine'

export const ExitCode = {
  OK: 0,
  /** `diff --exit-code`: the compared states differ. */
  DIFFERENCES: 1,
  /** Bad flags, arguments, URLs or configuration. */
  USAGE: 2,
  /** The database could not be reached or refused us. */
  CONNECTION: 3,
  /** Interrupted (SIGINT/SIGTERM) or cancelled. */
  ABORTED: 130,
  /** A bug in DBSnap. */
  INTERNAL: 70,
} as const

export function exitCodeFor(code: ErrorCode): number {
  if (code === 'CONFIG_INVALID' || code === 'INVALID_ARGUMENT') return ExitCode.USAGE
  if (code === 'CONNECTION_URL_INVALID' || code === 'CONNECTION_SCHEME_UNSUPPORTED')
    return ExitCode.USAGE
  if (code.startsWith('CONNECTION_')) return ExitCode.CONNECTION
  if (code === 'ABORTED') return ExitCode.ABORTED
  return ExitCode.INTERNAL
}
