// How every engine's table reader cuts rows into batches: the options they share and one check
// of them.

import type { CanonicalValue } from '../canonical/value-encoding.js'
import { DbsnapError } from '../errors.js'

/** Where a table read starts and how big its batches get. */
export interface BatchedReadOptions {
  /** Start after the row with this primary key (canonical values in key column order). */
  afterKey?: CanonicalValue[]
  /** Most rows in a batch. */
  batchRows?: number
  /**
   * A batch is closed once its rows reach about this many characters of value text, so batches
   * stay near this size plus one row (what is counted is the engine's text form).
   */
  batchBytes?: number
  signal?: AbortSignal
}

/** A read's batch limits, the engine's defaults filled in; `INVALID_ARGUMENT` for nonsense. */
export function batchLimits(
  options: BatchedReadOptions,
  defaults: { rows: number; bytes: number },
): { rows: number; bytes: number } {
  const rows = options.batchRows ?? defaults.rows
  const bytes = options.batchBytes ?? defaults.bytes
  if (!Number.isInteger(rows) || rows < 1) {
    throw new DbsnapError('INVALID_ARGUMENT', `batchRows must be an integer from 1, got ${rows}`)
  }
  if (!(bytes >= 1)) {
    throw new DbsnapError('INVALID_ARGUMENT', `batchBytes must be 1 or more, got ${bytes}`)
  }
  return { rows, bytes }
}
