// What a MySQL/MariaDB restore checks on the target before it writes: the account and its
// privileges, whether the server takes writes, which tables exist, which DEFINERs can be kept.

import type mysql from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError } from '../../errors.js'
import type { RestoreMode, RestoreObjects } from '../target-adapter.js'
import { granteeOf } from './mysql-introspect.js'
import { targetRows } from './mysql-target-query.js'

/** Global privileges that let an account write while the server is read_only. */
const READ_ONLY_BYPASS = new Set(['SUPER', 'READ_ONLY ADMIN', 'CONNECTION_ADMIN'])
/** Privileges that let an account name another account as DEFINER. */
const SET_DEFINER = new Set(['SUPER', 'SET USER', 'SET_USER_ID', 'SET_ANY_DEFINER'])

/** What an account holds, read once before the first write. */
export interface Account {
  user: string
  /** Global and database privileges; null when a role is active and they cannot be listed. */
  privileges: Set<string> | null
}

/**
 * A DEFINER is kept when it is the restoring account, or when the account may name others
 * and the definer's account exists on the target; otherwise the object gets the restoring
 * account (a missing definer would make the object fail when used).
 */
export async function canKeepDefiner(
  connection: mysql.Connection,
  account: Account,
  definer: string,
): Promise<boolean> {
  if (definer === account.user) return true
  if (account.privileges !== null && ![...account.privileges].some((p) => SET_DEFINER.has(p))) {
    return false
  }
  const at = definer.lastIndexOf('@')
  if (at < 0) return false
  try {
    const [row] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?',
      [definer.slice(0, at), definer.slice(at + 1)],
    )
    return Number(row[0]?.n ?? 0) > 0
  } catch {
    return false
  }
}

export async function readAccount(
  connection: mysql.Connection,
  target: ConnectionTarget,
  signal: AbortSignal | undefined,
): Promise<Account> {
  const [who] = await targetRows<{ user: string; role: string | null; db: string }>(
    connection,
    target,
    'SELECT current_user() AS user, current_role() AS role, database() AS db',
    [],
    signal,
  )
  const user = who?.user ?? ''
  const role = who?.role ?? null
  let privileges: Set<string> | null = null
  if (role === null || role === 'NONE') {
    const grantee = granteeOf(user)
    const rows = await targetRows<{ privilege: string }>(
      connection,
      target,
      `SELECT privilege_type AS privilege FROM information_schema.user_privileges WHERE grantee = ?
       UNION ALL
       SELECT privilege_type FROM information_schema.schema_privileges
        WHERE grantee = ? AND ? LIKE table_schema`,
      [grantee, grantee, who?.db ?? ''],
      signal,
    )
    privileges = new Set(rows.map((r) => r.privilege.toUpperCase()))
  }
  return { user, privileges }
}

/** TARGET_READ_ONLY when the server refuses this account's writes (read_only, replica). */
export async function checkWritable(
  connection: mysql.Connection,
  target: ConnectionTarget,
  account: Account,
  signal: AbortSignal | undefined,
): Promise<void> {
  const [flags] = await targetRows<Record<string, string | number | null>>(
    connection,
    target,
    'SELECT @@global.read_only AS ro, @@global.innodb_read_only AS innodb',
    [],
    signal,
  )
  const superReadOnly = await connection
    .query<mysql.RowDataPacket[]>('SELECT @@global.super_read_only AS sro')
    .then(([rows]) => Number(rows[0]?.sro ?? 0) === 1)
    .catch(() => false)
  const bypass =
    account.privileges !== null && [...account.privileges].some((p) => READ_ONLY_BYPASS.has(p))
  const readOnly =
    superReadOnly || Number(flags?.innodb ?? 0) === 1 || (Number(flags?.ro ?? 0) === 1 && !bypass)
  if (readOnly) {
    throw new DbsnapError(
      'TARGET_READ_ONLY',
      `the MySQL server at ${target.host}:${target.port} is read-only for user ${account.user} (read_only${superReadOnly ? ', super_read_only' : ''} is on): restore into a primary, or turn read_only off`,
      { details: { host: target.host, port: target.port } },
    )
  }
}

export async function existingTables(
  connection: mysql.Connection,
  target: ConnectionTarget,
  signal: AbortSignal | undefined,
): Promise<Set<string>> {
  const rows = await targetRows<{ name: string }>(
    connection,
    target,
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = database() AND table_type NOT IN ('VIEW', 'SEQUENCE')`,
    [],
    signal,
  )
  return new Set(rows.map((r) => r.name))
}

/**
 * Fails with CONNECTION_PRIVILEGE_MISSING naming every privilege the restore needs on the
 * database that the account lacks, judged from the grants information_schema lists for it
 * (globally and on the database; table-level grants are not looked at). With a role active
 * the grants cannot be listed this way, and the check is left to the server.
 */
export function checkPrivileges(
  account: Account,
  objects: RestoreObjects,
  mode: RestoreMode,
  target: ConnectionTarget,
): void {
  if (account.privileges === null) return
  const held = account.privileges
  if (held.has('ALL PRIVILEGES')) return
  const needed = ['SELECT', 'INSERT', 'CREATE']
  if (mode === 'overwrite') needed.push('DROP')
  if (mode === 'append') needed.push('UPDATE')
  if (objects.tables.some((t) => t.triggers.length > 0)) needed.push('TRIGGER')
  if (objects.whole) {
    if (objects.schema.views.length > 0) needed.push('CREATE VIEW', 'DROP')
    if (objects.schema.routines.length > 0) needed.push('CREATE ROUTINE', 'ALTER ROUTINE')
    if ((objects.schema.events ?? []).length > 0) needed.push('EVENT')
  }
  const missing = [...new Set(needed)].filter((p) => !held.has(p))
  if (missing.length === 0) return
  throw new DbsnapError(
    'CONNECTION_PRIVILEGE_MISSING',
    `user ${account.user} lacks ${missing.join(', ')} on the target database, which the restore needs; GRANT ${missing.join(', ')} ON <database>.* TO it`,
    { details: { host: target.host, port: target.port, missing } },
  )
}
