// A MySQL/MariaDB read view on several connections: their consistent-snapshot transactions begin
// under one short FLUSH TABLES WITH READ LOCK, so they all see the same commits (as mydumper does).

import type mysql from 'mysql2/promise'
import { abortError } from '../../errors.js'

/**
 * How long FLUSH TABLES WITH READ LOCK may wait for running writes (`lock_wait_timeout`). While
 * it waits, the server queues every other write behind it: a short wait bounds that stall, and a
 * server too busy to give the lock at once is read on one connection instead.
 */
const FLUSH_LOCK_WAIT_SECONDS = 1

export interface ViewConnections {
  /** The extra connections, each in a transaction of the main one's snapshot. */
  readers: mysql.Connection[]
  /** Why there are none although some were asked for; undefined when all were opened. */
  warning?: string
}

/**
 * Begins the read view on `main` (`begin`) and, when `count` > 0, on `count` more connections
 * (`open`) in the same snapshot: a separate connection takes FLUSH TABLES WITH READ LOCK, which
 * lets no transaction commit, every view begins, and the lock is released, held only for the
 * round trip of the BEGINs. Without the RELOAD privilege the lock needs, or when it cannot be had
 * within `FLUSH_LOCK_WAIT_SECONDS`, or when a connection cannot be opened, only `main` begins and
 * `warning` says why: the read is never split over snapshots of different moments.
 */
export async function beginViewConnections(
  main: mysql.Connection,
  count: number,
  options: {
    open: () => Promise<mysql.Connection>
    begin: (connection: mysql.Connection) => Promise<void>
    signal?: AbortSignal
  },
): Promise<ViewConnections> {
  if (count <= 0) {
    await options.begin(main)
    return { readers: [] }
  }
  const opening = await Promise.allSettled(Array.from({ length: count + 1 }, () => options.open()))
  const opened = opening.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
  const close = (): void => opened.forEach((connection) => connection.destroy())
  const failedOpen = opening.find((o) => o.status === 'rejected')
  const alone = async (warning: string): Promise<ViewConnections> => {
    close()
    if (options.signal?.aborted === true) throw abortError(options.signal)
    await options.begin(main)
    return { readers: [], warning: `tables are read on one connection: ${warning}` }
  }
  if (failedOpen !== undefined) {
    return alone(`opening ${count} more failed (${messageOf(failedOpen.reason)})`)
  }
  const [lock, ...readers] = opened as [mysql.Connection, ...mysql.Connection[]]
  try {
    await lock.query(`SET SESSION lock_wait_timeout = ${FLUSH_LOCK_WAIT_SECONDS}`)
    await lock.query('FLUSH TABLES WITH READ LOCK')
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
      return alone(
        'reading on several at once needs the RELOAD privilege (for FLUSH TABLES WITH READ LOCK, held for a moment to begin them all in one snapshot), which this account lacks',
      )
    }
    if (code === 'ER_LOCK_WAIT_TIMEOUT') {
      return alone(
        `FLUSH TABLES WITH READ LOCK, which begins several connections in one snapshot, waited ${FLUSH_LOCK_WAIT_SECONDS} s for running writes and gave up`,
      )
    }
    return alone(`FLUSH TABLES WITH READ LOCK failed (${messageOf(err)})`)
  }
  try {
    await Promise.all([main, ...readers].map((connection) => options.begin(connection)))
  } catch (err) {
    close()
    throw err
  } finally {
    // Released at once, whatever happened; destroying the connection would release it too.
    await lock.query('UNLOCK TABLES').catch(() => undefined)
    lock.destroy()
  }
  return { readers }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
