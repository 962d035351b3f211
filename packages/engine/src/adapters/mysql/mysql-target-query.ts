// Statements on a restore target's connection, failures mapped to DbsnapErrors by `targetError`:
// shared by the target adapter, its checks and its row loading.

import type mysql from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { abortError, throwIfAborted } from '../../errors.js'
import { targetError } from './mysql-errors.js'

/** The rows of a query on the target; failures mapped as `targetError` does. */
export async function targetRows<T>(
  connection: mysql.Connection,
  target: ConnectionTarget,
  sql: string,
  params: unknown[] = [],
  signal?: AbortSignal,
): Promise<T[]> {
  throwIfAborted(signal)
  try {
    const [rows] = await connection.query(sql, params)
    return rows as T[]
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    throw targetError(err, target, {})
  }
}

/** Runs one statement on the target; `context.table` names the table in a failure. */
export async function targetRun(
  connection: mysql.Connection,
  target: ConnectionTarget,
  sql: string,
  context: { table?: string } = {},
  params: unknown[] = [],
): Promise<void> {
  try {
    await connection.query(sql, params)
  } catch (err) {
    throw targetError(err, target, context)
  }
}
