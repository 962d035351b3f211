// MySQL/MariaDB restore target (mysql2): recreates a snapshot's tables with their keys, loads
// their rows (LOAD DATA LOCAL INFILE, or multi-row INSERTs), then triggers, routines, views, events.
//
// MySQL DDL is not transactional: DROP and CREATE TABLE commit at once. What is atomic is each
// table's row load on InnoDB (one transaction; a failure or a killed client leaves the new table
// empty). A restore stopped midway and run again with --force drops and reloads what it had done.

import type mysql from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, isDbsnapError, throwIfAborted } from '../../errors.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import { DEFAULT_TIMEOUT_MS, type ServerIdentity, type SourceAdapter } from '../source-adapter.js'
import type {
  ConnectTargetFn,
  RestoreMode,
  RestoreObjects,
  RestoreStep,
  RestoreTableOptions,
  RestoreTableResult,
  TableRows,
  TargetAdapter,
  TargetTableState,
} from '../target-adapter.js'
import { connectMysql } from './mysql-source.js'
import { openMysqlConnection } from './mysql-connection.js'
import {
  clientCharsetOf,
  createTableStatement,
  scratchTableStatement,
  sequenceStatements,
  type KeepDefiner,
} from './mysql-ddl.js'
import { mysqlError } from './mysql-errors.js'
import {
  canKeepDefiner,
  checkPrivileges,
  checkWritable,
  existingTables,
  readAccount,
  type Account,
} from './mysql-target-checks.js'
import { loadInfile, loadRows } from './mysql-target-load.js'
import { targetRows, targetRun } from './mysql-target-query.js'
import type { MysqlTableExtra } from './mysql-schema-extra.js'
import { quoteIdentifier } from './mysql-read.js'
import {
  MYSQL_RESTORE_SETTINGS,
  MYSQL_RESTORE_SQL_MODE,
  conflictClause,
  postDataStatements,
  setClientCharset,
} from './mysql-sql.js'

/** Back to the session's own character set after an object created under another one. */
const RESET_CHARSET =
  'SET SESSION character_set_client = utf8mb4, character_set_connection = utf8mb4'
/** The temporary table a new table's definition is tried on (session-local, never seen). */
const SCRATCH_TABLE = 'dbsnap_restore_check'

export const connectMysqlTarget: ConnectTargetFn = async (target, options) => {
  // The source adapter serves `describe`; rows are written through a second connection of our
  // own, opened the same way.
  const source = await connectMysql(target, options)
  let connection: mysql.Connection | undefined
  try {
    connection = (await openMysqlConnection(target, options)).connection
    const adapter = new MysqlTarget(connection, source, target)
    await adapter.setUp()
    return adapter
  } catch (err) {
    connection?.destroy()
    await source.close()
    if (isDbsnapError(err)) throw err
    throw mysqlError(err, target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  }
}

/**
 * The plan's steps around rows written into table `name`, which holds the triggers `held`
 * (`#withoutTriggers`): none without triggers.
 */
function triggerSteps(
  name: string,
  held: string[],
): { before: RestoreStep[]; after: RestoreStep[] } {
  if (held.length === 0) return { before: [], after: [] }
  const object = `${name}: ${held.join(', ')}`
  return {
    before: [
      {
        action:
          'lock the table for writing, drop its triggers so that restored rows do not fire them (not transactional)',
        object,
        destructive: true,
      },
    ],
    after: [
      {
        action:
          'recreate the triggers as they were, in their order, then unlock (not transactional; a failure names what to recreate)',
        object,
      },
    ],
  }
}

/** A trigger the target has, as SHOW CREATE TRIGGER gives it: what recreates it as it was. */
interface LiveTrigger {
  name: string
  /** `user@host`. */
  definer: string
  /** `SQL Original Statement`, DEFINER included. */
  statement: string
  sqlMode: string
  /** `character_set_client` and `collation_connection` it was created with. */
  charset: string
  collation: string
}

class MysqlTarget implements TargetAdapter {
  readonly engine = 'mysql' as const
  readonly #connection: mysql.Connection
  readonly #source: SourceAdapter
  readonly #target: ConnectionTarget
  #account: Account | undefined
  /** Whether overwritten tables load with LOAD DATA LOCAL INFILE (see `setUp`). */
  #localInfile = false
  readonly #definers = new Map<string, boolean>()
  #closed = false

  constructor(connection: mysql.Connection, source: SourceAdapter, target: ConnectionTarget) {
    this.#connection = connection
    this.#source = source
    this.#target = target
  }

  /** Pins the session: time zone, charset, sql_mode, no foreign-key checks (mysql-sql.ts). */
  async setUp(): Promise<void> {
    const settings = Object.entries(MYSQL_RESTORE_SETTINGS).map(([k, v]) => `${k} = ${v}`)
    await this.#run(`SET SESSION ${settings.join(', ')}`)
    // TIMESTAMP columns get only the defaults the DDL gives them (MySQL 8 and MariaDB 10.10+
    // default to this; older servers would add DEFAULT CURRENT_TIMESTAMP ON UPDATE …).
    await this.#connection
      .query('SET SESSION explicit_defaults_for_timestamp = 1')
      .catch(() => undefined)
    const [row] = await this.#rows<{ db: string | null; local_infile: number | string | null }>(
      'SELECT database() AS db, @@global.local_infile AS local_infile',
    )
    // LOAD DATA LOCAL INFILE parses about a third faster than INSERT on the server. MySQL 8 has
    // it off by default (local_infile); `?local-infile=0` in the URL keeps to INSERT.
    const wanted = this.#target.params.get('local-infile')
    this.#localInfile =
      Number(row?.local_infile ?? 0) === 1 &&
      (wanted === null || !/^(0|false|off|no)$/i.test(wanted))
    if (row?.db == null) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        'a MySQL/MariaDB restore writes into one database: name it in the URL (mysql://host/<database>)',
      )
    }
  }

  identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return this.#source.identify(options)
  }

  async inspect(
    tables: QualifiedName[],
    options: { signal?: AbortSignal } = {},
  ): Promise<TargetTableState[]> {
    const existing = await existingTables(this.#connection, this.#target, options.signal)
    const columns = await this.#rows<{ table: string; name: string; type: string }>(
      `SELECT table_name AS \`table\`, column_name AS name, column_type AS type
         FROM information_schema.columns WHERE table_schema = database()
        ORDER BY table_name, ordinal_position`,
      [],
      options.signal,
    )
    const states: TargetTableState[] = []
    for (const table of tables) {
      if (!existing.has(table.name)) {
        states.push({ table, exists: false, rows: 0, columns: null })
        continue
      }
      const [count] = await this.#rows<{ n: string | number }>(
        `SELECT COUNT(*) AS n FROM ${quoteIdentifier(table.name)}`,
        [],
        options.signal,
      )
      states.push({
        table,
        exists: true,
        rows: Number(count?.n ?? 0),
        columns: columns
          .filter((c) => c.table === table.name)
          .map((c) => ({ name: c.name, type: c.type })),
      })
    }
    return states
  }

  async plan(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<RestoreStep[]> {
    const existing = await existingTables(this.#connection, this.#target, options.signal)
    const chosen = new Set(objects.tables.map((t) => t.name))
    const liveTriggers =
      mode === 'append' ? await this.#triggerNames(options.signal) : new Map<string, string[]>()
    const steps: RestoreStep[] = []
    if (objects.whole) {
      const sequences = await this.#existingSequences(options.signal)
      for (const sequence of objects.schema.sequences) {
        const exists = sequences.has(sequence.name)
        if (mode === 'append' && exists) continue
        steps.push({
          action: `${exists ? 'replace' : 'create'} sequence and set its next value (not transactional)`,
          object: sequence.name,
          ...(exists ? { destructive: true } : {}),
        })
      }
    }
    for (const table of objects.tables) {
      const name = table.name
      const exists = existing.has(name)
      const transactional = (table.extra as MysqlTableExtra | undefined)?.transactional !== false
      const load = transactional
        ? 'one transaction'
        : `not transactional: ${(table.extra as MysqlTableExtra).engine ?? 'its engine'} table`
      if (mode === 'overwrite') {
        if (exists) {
          steps.push({ action: 'drop table (not transactional)', object: name, destructive: true })
          const children = referencingTables(objects, table).filter((t) => !chosen.has(t))
          if (children.length > 0) {
            steps.push({
              action:
                'keep foreign keys of tables not restored: with foreign_key_checks off the table is dropped and recreated under them, their rows not checked',
              object: `${name} <- ${children.join(', ')}`,
            })
          }
        }
        steps.push({ action: 'create table (not transactional)', object: name })
        steps.push({ action: `load rows (${load})`, object: name })
      } else {
        if (!exists) steps.push({ action: 'create table (not transactional)', object: name })
        const around = triggerSteps(name, exists ? (liveTriggers.get(name) ?? []) : [])
        steps.push(...around.before)
        steps.push({
          action: `append rows (${load}; foreign keys not checked)`,
          object: name,
        })
        steps.push(...around.after)
      }
    }
    for (const table of objects.tables) {
      for (const trigger of table.triggers) {
        // Appending keeps the triggers a table has (`finish`).
        if (liveTriggers.get(table.name)?.includes(trigger.name) === true) continue
        steps.push({
          action: 'create trigger (not transactional)',
          object: `${table.name}.${trigger.name}`,
        })
      }
    }
    if (objects.whole) {
      for (const routine of objects.schema.routines) {
        steps.push({ action: `replace ${routine.kind} (not transactional)`, object: routine.name })
      }
      for (const view of objects.schema.views) {
        steps.push({ action: 'create or replace view (not transactional)', object: view.name })
      }
      for (const event of objects.schema.events ?? []) {
        steps.push({ action: 'replace event (not transactional)', object: event.name })
      }
    }
    return steps
  }

  async planRowWrite(
    table: QualifiedName,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ before: RestoreStep[]; after: RestoreStep[] }> {
    return triggerSteps(
      table.name,
      (await this.#triggerNames(options.signal)).get(table.name) ?? [],
    )
  }

  async prepare(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    // Every statement built from the snapshot is checked (DATA_CORRUPT) before anything is written.
    for (const table of objects.tables) createTableStatement(table)
    postDataStatements(objects, objects.tables, () => false)
    const sequences = objects.whole ? objects.schema.sequences : []
    for (const sequence of sequences) sequenceStatements(sequence, true)
    const account = await this.#readAccount(options.signal)
    await checkWritable(this.#connection, this.#target, account, options.signal)
    checkPrivileges(account, objects, mode, this.#target)
    // Sequences before the tables whose defaults draw from them; appending keeps one that exists.
    const existing = await this.#existingSequences(options.signal)
    for (const sequence of sequences) {
      if (mode === 'append' && existing.has(sequence.name)) continue
      for (const sql of sequenceStatements(sequence, mode === 'overwrite')) {
        throwIfAborted(options.signal)
        await this.#run(sql, { table: quoteIdentifier(sequence.name) })
      }
    }
  }

  async #existingSequences(signal: AbortSignal | undefined): Promise<Set<string>> {
    const rows = await this.#rows<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = database() AND table_type = 'SEQUENCE'`,
      [],
      signal,
    )
    return new Set(rows.map((r) => r.name))
  }

  async restoreTable(
    table: TableSchema,
    rows: TableRows,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult> {
    const { signal } = options
    throwIfAborted(signal)
    const context = { table: quoteIdentifier(table.name) }
    if (options.mode === 'overwrite') {
      // DDL commits on its own, so what the server would refuse is tried first, on a scratch
      // table: a failure then leaves the table to replace as it was.
      const scratch = quoteIdentifier(SCRATCH_TABLE)
      await this.#run(scratchTableStatement(table, SCRATCH_TABLE), context)
      await this.#run(`DROP TEMPORARY TABLE ${scratch}`, context)
      await this.#run(`DROP TABLE IF EXISTS ${quoteIdentifier(table.name)}`, context)
      await this.#run(createTableStatement(table), context)
      // The snapshot's keys are unique: no unique checks while the new table loads.
      return this.#localInfile
        ? await loadInfile(this.#connection, this.#target, table, rows, options)
        : await loadRows(this.#connection, this.#target, table, rows, {
            ...options,
            tail: '',
            uniqueChecks: false,
          })
    }
    // Appending keeps a table that exists as it is (its columns were checked by the caller).
    await this.#run(
      createTableStatement(table).replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS'),
      context,
    )
    const load = (locked: boolean): Promise<RestoreTableResult> =>
      loadRows(this.#connection, this.#target, table, rows, {
        ...options,
        tail: conflictClause(table, options.onConflict),
        uniqueChecks: true,
        locked,
      })
    const triggers = await this.#tableTriggers(table.name, signal)
    if (triggers.length === 0) return await load(false)
    return await this.#withoutTriggers(table.name, triggers, () => load(true), signal)
  }

  /**
   * Runs `write` with the table's triggers out of the way, so that the rows it writes are the
   * snapshot's: MySQL and MariaDB have no session switch that stops triggers from firing. The
   * table is write-locked (LOCK TABLES … WRITE, with autocommit off so that the write is still
   * one transaction), its triggers dropped, `write` run, and the triggers recreated from their
   * own statements, in their firing order, under the sql_mode and definer they had; then the
   * table is unlocked. Other sessions wait for the lock meanwhile, so none writes to the table
   * while it has no triggers. DROP and CREATE TRIGGER are not transactional: when recreating
   * fails, the error names the triggers left to recreate and holds their statements.
   */
  async #withoutTriggers<T>(
    name: string,
    triggers: LiveTrigger[],
    write: () => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const context = { table: quoteIdentifier(name) }
    const account = await this.#readAccount(signal)
    for (const trigger of triggers) {
      if (!(await canKeepDefiner(this.#connection, account, trigger.definer))) {
        throw new DbsnapError(
          'CONNECTION_PRIVILEGE_MISSING',
          `restored rows of ${context.table} must not fire its trigger ${quoteIdentifier(trigger.name)}, which is dropped and recreated around the write, but user ${account.user} may not recreate it with its definer ${trigger.definer} (needs SET USER or SUPER)`,
          { details: { host: this.#target.host, port: this.#target.port, table: name } },
        )
      }
    }
    const dropped: LiveTrigger[] = []
    let result: T | undefined
    let failure: Error | undefined
    await this.#run('SET SESSION autocommit = 0', context)
    try {
      await this.#run(`LOCK TABLES ${quoteIdentifier(name)} WRITE`, context)
      try {
        for (const trigger of triggers) {
          await this.#run(`DROP TRIGGER ${quoteIdentifier(trigger.name)}`, context)
          dropped.push(trigger)
        }
        result = await write()
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err))
      }
      await this.#recreateTriggers(name, dropped, failure)
    } finally {
      await this.#connection.query('UNLOCK TABLES').catch(() => undefined)
      await this.#connection.query('SET SESSION autocommit = 1').catch(() => undefined)
    }
    if (failure !== undefined) throw failure
    return result as T
  }

  /**
   * Creates dropped triggers again, in order, each as SHOW CREATE TRIGGER gave it and under its
   * sql_mode and, for a statement in ASCII, its client character set and collation (other text
   * would be re-read in that character set, while it is sent in utf8mb4).
   */
  async #recreateTriggers(
    name: string,
    triggers: LiveTrigger[],
    failure: Error | undefined,
  ): Promise<void> {
    for (const [i, trigger] of triggers.entries()) {
      try {
        await this.#run('SET SESSION sql_mode = ?', {}, [trigger.sqlMode])
        const charset = clientCharsetOf(
          { extra: { charsetClient: trigger.charset, collationConnection: trigger.collation } },
          trigger.statement,
        )
        if (charset !== null) await this.#run(setClientCharset(charset))
        await this.#run(trigger.statement)
      } catch (err) {
        const left = triggers.slice(i)
        throw new DbsnapError(
          'RESTORE_FAILED',
          `the triggers ${left.map((t) => quoteIdentifier(t.name)).join(', ')} of ${quoteIdentifier(name)} were dropped so that restored rows would not fire them, and recreating them failed (${err instanceof Error ? err.message : String(err)})${failure === undefined ? '' : ' after the rows failed to load'}: create them again with the statements in this error's details, in that order`,
          {
            cause: failure ?? err,
            details: { table: name, triggers: left.map((t) => t.statement) },
          },
        )
      } finally {
        await this.#connection
          .query('SET SESSION sql_mode = ?', [MYSQL_RESTORE_SQL_MODE])
          .catch(() => undefined)
        await this.#connection.query(RESET_CHARSET).catch(() => undefined)
      }
    }
  }

  /** The table's triggers on the target, in the order they fire, as SHOW CREATE TRIGGER gives them. */
  async #tableTriggers(name: string, signal: AbortSignal | undefined): Promise<LiveTrigger[]> {
    const rows = await this.#rows<{ name: string; definer: string }>(
      `SELECT trigger_name AS name, definer FROM information_schema.triggers
        WHERE trigger_schema = database() AND event_object_table = ?
        ORDER BY action_timing, event_manipulation, action_order`,
      [name],
      signal,
    )
    const triggers: LiveTrigger[] = []
    for (const row of rows) {
      const [shown] = await this.#rows<Record<string, string>>(
        `SHOW CREATE TRIGGER ${quoteIdentifier(row.name)}`,
        [],
        signal,
      )
      triggers.push({
        name: row.name,
        definer: row.definer,
        statement: shown?.['SQL Original Statement'] ?? '',
        sqlMode: shown?.sql_mode ?? '',
        charset: shown?.character_set_client ?? 'utf8mb4',
        collation: shown?.collation_connection ?? 'utf8mb4_general_ci',
      })
    }
    return triggers
  }

  /** Trigger names of the target per table, in firing order. */
  async #triggerNames(signal: AbortSignal | undefined): Promise<Map<string, string[]>> {
    const rows = await this.#rows<{ t: string; n: string }>(
      `SELECT event_object_table AS t, trigger_name AS n FROM information_schema.triggers
        WHERE trigger_schema = database() ORDER BY action_timing, event_manipulation, action_order`,
      [],
      signal,
    )
    const names = new Map<string, string[]>()
    for (const row of rows) names.set(row.t, [...(names.get(row.t) ?? []), row.n])
    return names
  }

  async finish(
    objects: RestoreObjects,
    _mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const { signal } = options
    const account = await this.#readAccount(signal)
    // Triggers the tables still have (appended tables) are kept.
    const present = new Set(
      (
        await this.#rows<{ t: string; n: string }>(
          `SELECT event_object_table AS t, trigger_name AS n FROM information_schema.triggers
            WHERE trigger_schema = database()`,
          [],
          signal,
        )
      ).map((r) => `${r.t}\u0000${r.n}`),
    )
    const tables = objects.tables.map((table) => ({
      ...table,
      triggers: table.triggers.filter((t) => !present.has(`${table.name}\u0000${t.name}`)),
    }))
    const definers = new Set<string>()
    for (const object of [
      ...objects.tables.flatMap((t) => t.triggers),
      ...(objects.whole
        ? [...objects.schema.views, ...objects.schema.routines, ...(objects.schema.events ?? [])]
        : []),
    ]) {
      const definer = (object.extra as { definer?: unknown } | undefined)?.definer
      if (typeof definer === 'string') definers.add(definer)
    }
    for (const definer of definers) {
      this.#definers.set(definer, await canKeepDefiner(this.#connection, account, definer))
    }
    const keepDefiner: KeepDefiner = (definer) => this.#definers.get(definer) === true
    for (const statement of postDataStatements(objects, tables, keepDefiner)) {
      throwIfAborted(signal)
      if (statement.sqlMode !== undefined) {
        await this.#run('SET SESSION sql_mode = ?', {}, [statement.sqlMode])
      }
      if (statement.timeZone !== undefined) {
        await this.#run('SET SESSION time_zone = ?', {}, [statement.timeZone])
      }
      if (statement.charset !== undefined) await this.#run(setClientCharset(statement.charset))
      try {
        await this.#run(statement.sql)
      } finally {
        if (statement.sqlMode !== undefined) {
          await this.#run('SET SESSION sql_mode = ?', {}, [MYSQL_RESTORE_SQL_MODE])
        }
        if (statement.timeZone !== undefined) await this.#run("SET SESSION time_zone = '+00:00'")
        if (statement.charset !== undefined) await this.#run(RESET_CHARSET)
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#connection.end().catch(() => this.#connection.destroy())
    await this.#source.close().catch(() => undefined)
  }

  /** The restoring account, read once. */
  async #readAccount(signal: AbortSignal | undefined): Promise<Account> {
    this.#account ??= await readAccount(this.#connection, this.#target, signal)
    return this.#account
  }

  #rows<T>(sql: string, params: unknown[] = [], signal?: AbortSignal): Promise<T[]> {
    return targetRows<T>(this.#connection, this.#target, sql, params, signal)
  }

  #run(sql: string, context: { table?: string } = {}, params: unknown[] = []): Promise<void> {
    return targetRun(this.#connection, this.#target, sql, context, params)
  }
}

/** Tables of the snapshot whose foreign keys reference `table`. */
function referencingTables(objects: RestoreObjects, table: TableSchema): string[] {
  return objects.schema.tables
    .filter(
      (t) =>
        t !== table &&
        t.foreignKeys.some(
          (fk) => fk.references.schema === '' && fk.references.name === table.name,
        ),
    )
    .map((t) => t.name)
}
