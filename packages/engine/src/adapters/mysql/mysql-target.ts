// MySQL/MariaDB restore target (mysql2): recreates a snapshot's tables with their keys, loads
// their rows (LOAD DATA LOCAL INFILE, or multi-row INSERTs), then triggers, routines, views, events.
//
// MySQL DDL is not transactional: DROP and CREATE TABLE commit at once. What is atomic is each
// table's row load on InnoDB (one transaction; a failure or a killed client leaves the new table
// empty). A restore stopped midway and run again with --force drops and reloads what it had done.

import { once } from 'node:events'
import { Readable } from 'node:stream'
import type mysql from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import type { CanonicalRow } from '../../canonical/value-encoding.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import {
  DEFAULT_TIMEOUT_MS,
  type ServerDescription,
  type SourceAdapter,
} from '../source-adapter.js'
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
import { connectMysql } from './mysql-adapter.js'
import { openMysqlConnection } from './mysql-connection.js'
import {
  clientCharsetOf,
  createTableStatement,
  scratchTableStatement,
  sequenceStatements,
  type KeepDefiner,
} from './mysql-ddl.js'
import { scrub } from '../connect-errors.js'
import { mysqlError, mysqlQueryError } from './mysql-errors.js'
import { granteeOf } from './mysql-introspect.js'
import { type MysqlTableExtra } from './mysql-schema-extra.js'
import { quoteIdentifier } from './mysql-read.js'
import {
  MYSQL_RESTORE_SETTINGS,
  MYSQL_RESTORE_SQL_MODE,
  conflictClause,
  deleteStatements,
  infileShape,
  insertStatements,
  postDataStatements,
  setClientCharset,
} from './mysql-sql.js'

/** Back to the session's own character set after an object created under another one. */
const RESET_CHARSET =
  'SET SESSION character_set_client = utf8mb4, character_set_connection = utf8mb4'
/** INSERT statements sent ahead of the one the server is running: bounds memory to ~3 MiB. */
const IN_FLIGHT = 2
/** The temporary table a new table's definition is tried on (session-local, never seen). */
const SCRATCH_TABLE = 'dbsnap_restore_check'
/** LOAD DATA: bytes per packet sent, and unsent bytes the socket may hold before we wait. */
const INFILE_CHUNK = 256 * 1024
const INFILE_BACKLOG = 4 * 1024 * 1024

/** Global privileges that let an account write while the server is read_only. */
const READ_ONLY_BYPASS = new Set(['SUPER', 'READ_ONLY ADMIN', 'CONNECTION_ADMIN'])
/** Privileges that let an account name another account as DEFINER. */
const SET_DEFINER = new Set(['SUPER', 'SET USER', 'SET_USER_ID', 'SET_ANY_DEFINER'])

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

/** What an account holds, read once before the first write. */
interface Account {
  user: string
  /** Global and database privileges; null when a role is active and they cannot be listed. */
  privileges: Set<string> | null
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

  describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    return this.#source.describe(options)
  }

  async inspect(
    tables: QualifiedName[],
    options: { signal?: AbortSignal } = {},
  ): Promise<TargetTableState[]> {
    const existing = await this.#existingTables(options.signal)
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
    const existing = await this.#existingTables(options.signal)
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
    await this.#checkWritable(account, options.signal)
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
        ? await this.#loadInfile(table, rows, options)
        : await this.#load(table, rows, { ...options, tail: '', uniqueChecks: false })
    }
    // Appending keeps a table that exists as it is (its columns were checked by the caller).
    await this.#run(
      createTableStatement(table).replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS'),
      context,
    )
    const load = (locked: boolean): Promise<RestoreTableResult> =>
      this.#load(table, rows, {
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
      if (!(await this.#canKeepDefiner(account, trigger.definer))) {
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

  /**
   * Inserts the rows in one transaction. Statements are built while the server runs the ones
   * sent before (up to IN_FLIGHT queued on the connection, so it never waits for the next);
   * a failure rolls back, which on InnoDB leaves the table as it was.
   */
  async #load(
    table: TableSchema,
    rows: AsyncIterable<CanonicalRow[]>,
    options: RestoreTableOptions & {
      tail: string
      uniqueChecks: boolean
      /** Under LOCK TABLES with autocommit off: START TRANSACTION would release the lock. */
      locked?: boolean
    },
  ): Promise<RestoreTableResult> {
    const { signal, onConflict } = options
    const context = { table: quoteIdentifier(table.name) }
    const result: RestoreTableResult = { inserted: 0, updated: 0, skipped: 0 }
    const count = (sent: number, header: mysql.ResultSetHeader): void => {
      const inserted = options.tail === '' ? sent : insertedOf(header)
      const duplicates = sent - inserted
      result.inserted += inserted
      if (onConflict === 'update') result.updated += duplicates
      else result.skipped += duplicates
      options.onRows?.(sent)
    }
    if (!options.uniqueChecks) await this.#run('SET SESSION unique_checks = 0', context)
    if (options.locked !== true) await this.#run('START TRANSACTION', context)
    // `--only-changed`: the rows to delete go first, in this transaction. Foreign keys are
    // checked for them, so a row another table still references is not left dangling.
    const deletes = deleteStatements(table, options.deleteKeys ?? [])
    if (deletes.length > 0) {
      try {
        await this.#run('SET SESSION foreign_key_checks = 1', context)
        for (const sql of deletes) {
          throwIfAborted(signal)
          await this.#connection.query(sql)
        }
      } catch (err) {
        await this.#connection.query('ROLLBACK').catch(() => undefined)
        throw signal?.aborted === true ? abortError(signal) : this.#error(err, context)
      } finally {
        await this.#connection.query('SET SESSION foreign_key_checks = 0').catch(() => undefined)
      }
    }
    // Settled promises of the statements sent and not yet awaited: each holds null or the error.
    const inFlight: Promise<Error | null>[] = []
    const settleOldest = async (): Promise<void> => {
      const failure = await inFlight.shift()
      if (failure != null) throw failure
    }
    try {
      for await (const statement of insertStatements(table, rows, { tail: options.tail })) {
        while (inFlight.length >= IN_FLIGHT) await settleOldest()
        throwIfAborted(signal)
        inFlight.push(
          this.#connection.query<mysql.ResultSetHeader>(statement.sql).then(
            ([header]) => {
              count(statement.rows, header)
              return null
            },
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          ),
        )
      }
      while (inFlight.length > 0) await settleOldest()
      throwIfAborted(signal)
      await this.#run('COMMIT', context)
    } catch (err) {
      await Promise.all(inFlight)
      await this.#connection.query('ROLLBACK').catch(() => undefined)
      if (signal?.aborted === true) throw abortError(signal)
      throw this.#error(err, context)
    } finally {
      if (!options.uniqueChecks) {
        await this.#connection.query('SET SESSION unique_checks = 1').catch(() => undefined)
      }
    }
    return result
  }

  /**
   * Loads a new table's rows with one LOAD DATA LOCAL INFILE in one transaction, the rows
   * streamed as the server reads them. The socket's backlog is bounded (mysql2 itself does
   * not wait for it), so memory stays bounded whatever the table size. A failure rolls back.
   */
  async #loadInfile(
    table: TableSchema,
    rows: AsyncIterable<CanonicalRow[]>,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult> {
    const { signal } = options
    const context = { table: quoteIdentifier(table.name) }
    const shape = infileShape(table)
    const socket = socketOf(this.#connection)
    let sent = 0
    async function* chunks(): AsyncGenerator<Buffer> {
      let text = ''
      for await (const batch of rows) {
        throwIfAborted(signal)
        for (const row of batch) {
          text += shape.line(row)
          if (text.length >= INFILE_CHUNK) {
            if (socket.writableLength > INFILE_BACKLOG) await once(socket, 'drain')
            yield Buffer.from(text, 'utf8')
            text = ''
          }
        }
        sent += batch.length
        options.onRows?.(batch.length)
      }
      if (text !== '') yield Buffer.from(text, 'utf8')
    }
    await this.#run('SET SESSION unique_checks = 0', context)
    await this.#run('START TRANSACTION', context)
    try {
      const [header] = await this.#connection.query<mysql.ResultSetHeader>({
        sql: shape.statement,
        infileStreamFactory: () => Readable.from(chunks()),
      })
      if (header.affectedRows !== sent) {
        throw new DbsnapError(
          'RESTORE_FAILED',
          `the server loaded ${header.affectedRows} of the ${sent} rows of ${context.table} (${header.info})`,
        )
      }
      await this.#run('COMMIT', context)
    } catch (err) {
      await this.#connection.query('ROLLBACK').catch(() => undefined)
      if (signal?.aborted === true) throw abortError(signal)
      throw this.#error(err, context)
    } finally {
      await this.#connection.query('SET SESSION unique_checks = 1').catch(() => undefined)
    }
    return { inserted: sent, updated: 0, skipped: 0 }
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
      this.#definers.set(definer, await this.#canKeepDefiner(account, definer))
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

  /**
   * A DEFINER is kept when it is the restoring account, or when the account may name others
   * and the definer's account exists on the target; otherwise the object gets the restoring
   * account (a missing definer would make the object fail when used).
   */
  async #canKeepDefiner(account: Account, definer: string): Promise<boolean> {
    if (definer === account.user) return true
    if (account.privileges !== null && ![...account.privileges].some((p) => SET_DEFINER.has(p))) {
      return false
    }
    const at = definer.lastIndexOf('@')
    if (at < 0) return false
    try {
      const [row] = await this.#connection.query<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?',
        [definer.slice(0, at), definer.slice(at + 1)],
      )
      return Number(row[0]?.n ?? 0) > 0
    } catch {
      return false
    }
  }

  async #readAccount(signal: AbortSignal | undefined): Promise<Account> {
    if (this.#account !== undefined) return this.#account
    const [who] = await this.#rows<{ user: string; role: string | null; db: string }>(
      'SELECT current_user() AS user, current_role() AS role, database() AS db',
      [],
      signal,
    )
    const user = who?.user ?? ''
    const role = who?.role ?? null
    let privileges: Set<string> | null = null
    if (role === null || role === 'NONE') {
      const grantee = granteeOf(user)
      const rows = await this.#rows<{ privilege: string }>(
        `SELECT privilege_type AS privilege FROM information_schema.user_privileges WHERE grantee = ?
         UNION ALL
         SELECT privilege_type FROM information_schema.schema_privileges
          WHERE grantee = ? AND ? LIKE table_schema`,
        [grantee, grantee, who?.db ?? ''],
        signal,
      )
      privileges = new Set(rows.map((r) => r.privilege.toUpperCase()))
    }
    this.#account = { user, privileges }
    return this.#account
  }

  /** TARGET_READ_ONLY when the server refuses this account's writes (read_only, replica). */
  async #checkWritable(account: Account, signal: AbortSignal | undefined): Promise<void> {
    const [flags] = await this.#rows<Record<string, string | number | null>>(
      'SELECT @@global.read_only AS ro, @@global.innodb_read_only AS innodb',
      [],
      signal,
    )
    const superReadOnly = await this.#connection
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
        `the MySQL server at ${this.#target.host}:${this.#target.port} is read-only for user ${account.user} (read_only${superReadOnly ? ', super_read_only' : ''} is on): restore into a primary, or turn read_only off`,
        { details: { host: this.#target.host, port: this.#target.port } },
      )
    }
  }

  async #existingTables(signal: AbortSignal | undefined): Promise<Set<string>> {
    const rows = await this.#rows<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = database() AND table_type NOT IN ('VIEW', 'SEQUENCE')`,
      [],
      signal,
    )
    return new Set(rows.map((r) => r.name))
  }

  async #rows<T>(sql: string, params: unknown[] = [], signal?: AbortSignal): Promise<T[]> {
    throwIfAborted(signal)
    try {
      const [rows] = await this.#connection.query(sql, params)
      return rows as T[]
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      throw this.#error(err, {})
    }
  }

  async #run(sql: string, context: { table?: string } = {}, params: unknown[] = []): Promise<void> {
    try {
      await this.#connection.query(sql, params)
    } catch (err) {
      throw this.#error(err, context)
    }
  }

  #error(err: unknown, context: { table?: string }): DbsnapError {
    return targetError(err, this.#target, context)
  }
}

/** The socket under a mysql2 promise connection, which its types do not declare. */
function socketOf(
  connection: mysql.Connection,
): NodeJS.WritableStream & { writableLength: number } {
  return (
    connection as unknown as {
      connection: { stream: NodeJS.WritableStream & { writableLength: number } }
    }
  ).connection.stream
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

/**
 * Rows of an INSERT … ON DUPLICATE KEY UPDATE that were new. Without CLIENT_FOUND_ROWS the
 * server counts 1 affected row per insert, 2 per row the update changed and 0 per row it left
 * as it was; a multi-row INSERT's info (`Records: 3  Duplicates: 1 …`) counts the changed ones.
 * A one-row INSERT has no info: 2 affected rows are then a changed row.
 */
function insertedOf(header: mysql.ResultSetHeader): number {
  const match = /Duplicates:\s*(\d+)/.exec(header.info ?? '')
  const changed = match !== null ? Number(match[1]) : header.affectedRows === 2 ? 1 : 0
  return header.affectedRows - 2 * changed
}

/**
 * Fails with CONNECTION_PRIVILEGE_MISSING naming every privilege the restore needs on the
 * database that the account lacks, judged from the grants information_schema lists for it
 * (globally and on the database; table-level grants are not looked at). With a role active
 * the grants cannot be listed this way, and the check is left to the server.
 */
function checkPrivileges(
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

/** Server error names that mean a privilege is missing. */
const DENIED = new Set([
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
  'ER_KILL_DENIED_ERROR',
])
/** Server error names of a server or engine that takes no writes. */
const READ_ONLY = new Set([
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_INNODB_READ_ONLY',
])

/**
 * A failure of a restore statement as a DbsnapError: duplicate key → TARGET_CONFLICT (naming
 * the key), read-only server → TARGET_READ_ONLY, missing grant → CONNECTION_PRIVILEGE_MISSING,
 * lost connection and timeouts as for reads, anything else → RESTORE_FAILED with the server's
 * message.
 */
export function targetError(
  err: unknown,
  target: ConnectionTarget,
  context: { table?: string } = {},
): DbsnapError {
  if (isDbsnapError(err)) return err
  const mapped = mysqlQueryError(err, target)
  const code = typeof mapped.details?.serverCode === 'string' ? mapped.details.serverCode : ''
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const onTable = context.table === undefined ? '' : ` restoring ${context.table}`
  const details = {
    ...mapped.details,
    ...(context.table === undefined ? {} : { table: context.table }),
  }
  const options = { cause: err, details }
  if (code === 'ER_DUP_ENTRY' || code === 'ER_DUP_ENTRY_WITH_KEY_NAME') {
    // MySQL 8.0.19+ names the key `table.key`.
    const key = /for key '([^']*)'/.exec(message)?.[1] ?? 'a unique key'
    const primary = key === 'PRIMARY' || key.endsWith('.PRIMARY')
    return new DbsnapError(
      'TARGET_CONFLICT',
      `a row${onTable} has the same ${primary ? 'primary key' : `key ${key}`} as a row the target holds (${message}); use --on-conflict skip or update`,
      { ...options, details: { ...details, key } },
    )
  }
  if (READ_ONLY.has(code)) {
    return new DbsnapError(
      'TARGET_READ_ONLY',
      `the target refuses writes${onTable}: ${message}`,
      options,
    )
  }
  if (DENIED.has(code)) {
    return new DbsnapError(
      'CONNECTION_PRIVILEGE_MISSING',
      `user "${target.user ?? ''}" lacks a privilege${onTable}: ${message}`,
      options,
    )
  }
  if (mapped.code.startsWith('CONNECTION_')) {
    return new DbsnapError(
      mapped.code,
      `${mapped.message}${onTable === '' ? '' : ` (${onTable.trim()})`}`,
      {
        ...options,
        retryable: mapped.retryable,
      },
    )
  }
  return new DbsnapError('RESTORE_FAILED', `the target refused a statement${onTable}: ${message}`, {
    ...options,
    retryable: mapped.retryable,
  })
}
