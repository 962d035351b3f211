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
  /** The repository or its storage failed: missing, locked, unreachable, full, denied. */
  STORAGE: 4,
  /** Stored data is corrupt, or the source changed under a snapshot. */
  DATA: 5,
  /** The restore target refused the restore: not empty, read-only, mismatched, conflicting. */
  TARGET: 6,
  /** Interrupted (SIGINT/SIGTERM) or cancelled. */
  ABORTED: 130,
  /** A bug in DBSnap. */
  INTERNAL: 70,
} as const

export function exitCodeFor(code: ErrorCode): number {
  if (
    code === 'CONFIG_INVALID' ||
    code === 'INVALID_ARGUMENT' ||
    code === 'OUTPUT_INVALID' ||
    code === 'NOT_SUPPORTED'
  )
    return ExitCode.USAGE
  if (code === 'CONNECTION_URL_INVALID' || code === 'CONNECTION_SCHEME_UNSUPPORTED')
    return ExitCode.USAGE
  if (code.startsWith('CONNECTION_')) return ExitCode.CONNECTION
  if (
    code === 'TABLE_NOT_FOUND' ||
    code === 'SNAPSHOT_NOT_FOUND' ||
    code === 'SNAPSHOT_AMBIGUOUS' ||
    code === 'DIFF_NOT_FOUND'
  )
    return ExitCode.USAGE
  if (code.startsWith('STORAGE_') || code.startsWith('REPOSITORY_')) return ExitCode.STORAGE
  if (code === 'DATA_CORRUPT' || code === 'SOURCE_CHANGED' || code === 'QUERY_FAILED')
    return ExitCode.DATA
  if (code.startsWith('TARGET_') || code === 'RESTORE_FAILED') return ExitCode.TARGET
  if (code === 'ABORTED') return ExitCode.ABORTED
  return ExitCode.INTERNAL
}
