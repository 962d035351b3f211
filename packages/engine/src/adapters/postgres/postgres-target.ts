// PostgreSQL restore target: recreates a snapshot's schema objects and loads its rows with
// COPY FROM STDIN, one transaction per table, so that a failure leaves each table as it was.

import type pg from 'pg'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import { tableKey, tableName } from '../../schema/table-name.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import { DEFAULT_TIMEOUT_MS, type ServerIdentity } from '../source-adapter.js'
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
import { scrub } from '../connect-errors.js'
import { finishClient, identifyPostgres, openPostgresClient } from './postgres-source.js'
import {
  PG_RESTORE_SETTINGS,
  neededObjects,
  quoteIdent,
  qualifiedName,
  type DdlStatement,
} from './postgres-ddl.js'
import { afterDataStatements, finishStatements } from './postgres-ddl-post-data.js'
import {
  createTableStatements,
  parentStatements,
  preDataStatements,
} from './postgres-ddl-pre-data.js'
import { postgresError, postgresQueryError } from './postgres-errors.js'
import { appendRows, copyRows } from './postgres-target-load.js'
import {
  checkPrivileges,
  checkReplaceable,
  checkVersion,
  checkWritable,
  keepsTable,
  tableDependents,
  targetTable,
  targetTables,
  type Dependents,
} from './postgres-target-checks.js'
import { checkStatement } from './postgres-statement.js'
import { PG_SESSION_SETTINGS } from './postgres-values.js'

/** The DDL statement a driver error came from, for the error's message. */
const failedStatements = new WeakMap<object, DdlStatement>()

/**
 * Steps of a whole restore that need more than owning the database (event triggers need a
 * superuser; a comment on the public schema, its owner): a user without it gets the rest of the
 * restore and a warning for each, as pg_restore goes on past them.
 */
const LEFT_OUT_WHEN_DENIED = new Set([
  'comment',
  'create publication',
  'add publication table',
  'create event trigger',
  'set event trigger state',
])

/** SQLSTATEs of "already exists": an object a restore would create is kept as the target has it. */
const ALREADY_EXISTS = new Set(['42P06', '42P07', '42710', '42723'])

export const connectPostgresTarget: ConnectTargetFn = async (target, options) => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const client = await openPostgresClient(target, options)
  const settings = { ...PG_SESSION_SETTINGS, ...PG_RESTORE_SETTINGS }
  try {
    // Values go in as text under the settings their text was read with, so they read back
    // identical; DDL runs under an empty search_path, as the stored definitions expect.
    await client.query(
      `SELECT ${Object.keys(settings)
        .map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, false)`)
        .join(', ')}`,
      Object.entries(settings).flat(),
    )
  } catch (err) {
    await client.end().catch(() => undefined)
    throw postgresError(err, target, timeoutMs)
  }
  return new PostgresTarget(client, target, timeoutMs)
}

class PostgresTarget implements TargetAdapter {
  readonly engine = 'postgres' as const
  /** What the restore left out, for its result (e.g. a foreign key to a table not restored). */
  readonly warnings: string[] = []
  readonly #client: pg.Client
  readonly #target: ConnectionTarget
  readonly #timeoutMs: number
  #objects: RestoreObjects | null = null
  #writable = false
  #closed = false

  constructor(client: pg.Client, target: ConnectionTarget, timeoutMs: number) {
    this.#client = client
    this.#target = target
    this.#timeoutMs = timeoutMs
  }

  identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return identifyPostgres(this.#client, this.#target, this.#timeoutMs, options.signal)
  }

  /** Row counts are exact (`count(*)` of the table itself, not its inheritance children). */
  async inspect(
    tables: QualifiedName[],
    options: { signal?: AbortSignal } = {},
  ): Promise<TargetTableState[]> {
    return this.#guard('inspecting the target', options.signal, () =>
      this.#inspect(tables, options.signal),
    )
  }

  async #inspect(
    tables: QualifiedName[],
    signal: AbortSignal | undefined,
  ): Promise<TargetTableState[]> {
    const states: TargetTableState[] = []
    const existing = await targetTables(this.#client, this.#target, tables)
    for (const table of tables) {
      throwIfAborted(signal)
      const found = existing.get(tableKey(table))
      if (found === undefined) {
        states.push({ table, exists: false, rows: 0, columns: null })
        continue
      }
      const columns = await this.#query<{ name: string; type: string }>(
        `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type
           FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [found.oid],
      )
      const [count] = await this.#query<{ rows: string }>(
        `SELECT count(*)::text AS rows FROM ONLY ${qualifiedName(table)}`,
      )
      states.push({ table, exists: true, rows: Number(count?.rows ?? 0), columns })
    }
    return states
  }

  async plan(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<RestoreStep[]> {
    return this.#guard('planning the restore', options.signal, () =>
      this.#plan(objects, mode, options.signal),
    )
  }

  async #plan(
    objects: RestoreObjects,
    mode: RestoreMode,
    signal: AbortSignal | undefined,
  ): Promise<RestoreStep[]> {
    const steps: RestoreStep[] = preDataStatements(objects).map(step)
    const existing = await targetTables(this.#client, this.#target, objects.tables)
    for (const table of objects.tables) {
      throwIfAborted(signal)
      const found = existing.get(tableKey(table))
      const name = tableName(table)
      if (found !== undefined && mode === 'append') {
        steps.push({ action: 'append rows', object: name })
        continue
      }
      if (found !== undefined) {
        const dependents = await tableDependents(this.#client, found, objects)
        if (keepsTable(dependents)) {
          steps.push({ action: 'replace rows', object: name, destructive: true })
          continue
        }
        for (const fk of dependents.foreignKeys) {
          steps.push({
            action: 'drop foreign key',
            object: `${fk.table.schema}.${fk.table.name}.${fk.name}`,
          })
        }
        for (const view of dependents.views) {
          steps.push({ action: 'drop view', object: `${view.name.schema}.${view.name.name}` })
        }
        steps.push({ action: 'drop table', object: name, destructive: true })
      }
      steps.push(...createTableStatements(table, objects.schema.sequences).map(step))
      steps.push({ action: 'load rows', object: name })
      steps.push(...afterDataStatements(table).map(step))
    }
    steps.push(...finishStatements(objects).map(step))
    return steps
  }

  async prepare(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.#guard('checking the target', options.signal, async () => {
      await this.#checkWritable()
      await checkVersion(this.#client, objects)
      await checkPrivileges(this.#client, this.#target, objects, mode)
    })
    this.#objects = objects
    // A table that must be kept and cannot be is refused before any table is written, so no
    // earlier table's transaction has changed anything (dropped a key into it) by then.
    if (mode === 'overwrite') {
      await this.#guard('checking the target', options.signal, async () => {
        const existing = await targetTables(this.#client, this.#target, objects.tables)
        for (const table of objects.tables) {
          const found = existing.get(tableKey(table))
          if (found === undefined) continue
          const dependents = await tableDependents(this.#client, found, objects)
          if (keepsTable(dependents)) await checkReplaceable(this.#client, table, dependents)
        }
      })
    }
    await this.#transaction(options.signal, async () => {
      for (const statement of preDataStatements(objects, { parents: false })) {
        // A partial restore keeps a function the target already has (other tables may use
        // it as it is); a whole restore brings every function back to the snapshot's.
        const sql = objects.whole
          ? statement.sql
          : statement.sql.replace(/^CREATE OR REPLACE /, 'CREATE ')
        await this.#runKeepingExisting({ ...statement, sql }, options.signal)
      }
      const { parents } = neededObjects(objects)
      const existing = await targetTables(this.#client, this.#target, parents)
      for (const parent of parents) {
        if (existing.has(tableKey(parent))) continue
        for (const statement of parentStatements(parent, objects)) {
          await this.#run(statement, options.signal)
        }
      }
    }).catch((err: unknown) => {
      throw this.#error(err, 'preparing the restore', options.signal)
    })
  }

  async restoreTable(
    table: TableSchema,
    rows: TableRows,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult> {
    await this.#guard('checking the target', options.signal, () => this.#checkWritable())
    const sequences = this.#objects?.schema.sequences ?? []
    const { signal } = options
    const relation = `${table.schema}.${table.name}`
    const total = { rows: 0 }
    const counted = (rows: number): void => {
      total.rows += rows
      options.onRows?.(rows)
    }
    return this.#transaction(signal, async () => {
      const found = await targetTable(this.#client, this.#target, table)
      if (found !== null && options.mode === 'append') {
        return this.#withoutUserTriggers(table, () =>
          appendRows(this.#client, this.#target, table, rows, options, counted),
        )
      }
      if (found !== null) {
        const dependents = await tableDependents(this.#client, found, this.#objects)
        if (keepsTable(dependents)) {
          await this.#replaceRows(table, dependents, rows, signal, counted)
          return { inserted: total.rows, updated: 0, skipped: 0 }
        }
        for (const fk of dependents.foreignKeys) {
          await this.#run(
            {
              sql: `ALTER TABLE ${qualifiedName(fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`,
              action: 'drop foreign key',
              object: fk.name,
            },
            signal,
          )
        }
        for (const view of dependents.views) {
          const kind = view.materialized ? 'MATERIALIZED VIEW' : 'VIEW'
          await this.#run(
            {
              sql: `DROP ${kind} IF EXISTS ${qualifiedName(view.name)}`,
              action: 'drop view',
              object: view.name.name,
            },
            signal,
          )
        }
        await this.#run(
          { sql: `DROP TABLE ${qualifiedName(table)}`, action: 'drop table', object: relation },
          signal,
        )
      }
      for (const statement of createTableStatements(table, sequences)) {
        await this.#run(statement, signal)
      }
      // Keys and indexes are built after the rows, as pg_restore does: one sort costs the
      // server less than an index entry per row (decision 0018).
      await copyRows(this.#client, table, qualifiedName(table), rows, signal, counted)
      for (const statement of afterDataStatements(table)) {
        await this.#run(statement, signal)
      }
      return { inserted: total.rows, updated: 0, skipped: 0 }
    }).catch((err: unknown) => {
      throw this.#error(err, `restoring ${relation}`, signal)
    })
  }

  async finish(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.#transaction(options.signal, async () => {
      for (const statement of finishStatements(objects)) {
        if (statement.action === 'set sequence value' && mode === 'append') {
          // Appending never moves a sequence back: only forward to the snapshot's position.
          const forward = forwardOnly(statement)
          if (forward !== null) await this.#run(forward, options.signal)
          continue
        }
        await this.#runKeepingExisting(statement, options.signal, {
          // A foreign key into (or a rule acting on) a table the target does not have (a
          // partial restore into an empty database) cannot be made; it is left out.
          skipMissing: ['add foreign key', 'create rule', 'create policy'].includes(
            statement.action,
          ),
          skipDenied: LEFT_OUT_WHEN_DENIED.has(statement.action),
        })
      }
    }).catch((err: unknown) => {
      throw this.#error(err, 'finishing the restore', options.signal)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await finishClient(this.#client)
  }

  /**
   * Overwrite of a table that other objects depend on, which stay: its rows are deleted and
   * loaded again in the same transaction, its triggers off meanwhile. Foreign keys of tables
   * not restored must be deferrable `NO ACTION` ones (checked at commit, once the rows are
   * back); a cascading one would change a table that is not restored, so that is refused.
   */
  async #replaceRows(
    table: TableSchema,
    dependents: Dependents,
    rows: TableRows,
    signal: AbortSignal | undefined,
    counted: (rows: number) => void,
  ): Promise<void> {
    await checkReplaceable(this.#client, table, dependents)
    for (const fk of dependents.foreignKeys.filter((fk) => fk.restored)) {
      await this.#query(
        `ALTER TABLE ${qualifiedName(fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`,
      )
    }
    const name = qualifiedName(table)
    await this.#withoutUserTriggers(table, async () => {
      await this.#query('SET CONSTRAINTS ALL DEFERRED')
      await this.#query(`DELETE FROM ONLY ${name}`)
      await copyRows(this.#client, table, qualifiedName(table), rows, signal, counted)
    })
  }

  /**
   * Runs `body`, which writes a restore's rows into an existing `table`, with the table's user
   * triggers off, so the rows are the snapshot's (what `pg_restore --disable-triggers` does): a
   * `BEFORE UPDATE` trigger setting `last_update = now()` would otherwise stamp the restore's
   * time on every row it writes back. Each trigger gets its own state back (`ENABLE REPLICA`,
   * `ENABLE ALWAYS`) before the caller's transaction commits, so no other session ever sees
   * them off, and a failure rolls the change back with the rows.
   *
   * `ALTER TABLE … DISABLE TRIGGER`, not `SET LOCAL session_replication_role = replica`: the
   * role needs superuser (or, from PostgreSQL 15, a `GRANT SET` on the parameter) where this
   * needs only ownership, which replacing rows needs anyway; under it, `ENABLE REPLICA` and
   * `ENABLE ALWAYS` triggers fire all the same; and it turns off the internal triggers that
   * check foreign keys too, while here those (`tgisinternal`) stay on, so keys are checked as
   * they always were.
   */
  async #withoutUserTriggers<T>(table: QualifiedName, body: () => Promise<T>): Promise<T> {
    const name = qualifiedName(table)
    const triggers = await this.#query<{ name: string; enabled: string }>(
      `SELECT tgname::text AS name, tgenabled::text AS enabled FROM pg_trigger
        WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgenabled <> 'D'`,
      [name],
    )
    for (const trigger of triggers) {
      await this.#query(`ALTER TABLE ${name} DISABLE TRIGGER ${quoteIdent(trigger.name)}`)
    }
    const result = await body()
    // Deferred foreign-key checks still pending would refuse the ALTER TABLE below (55006):
    // run them now, on the rows as they will be committed.
    if (triggers.length > 0) await this.#query('SET CONSTRAINTS ALL IMMEDIATE')
    for (const trigger of triggers) {
      const state = trigger.enabled === 'R' ? 'REPLICA ' : trigger.enabled === 'A' ? 'ALWAYS ' : ''
      await this.#query(`ALTER TABLE ${name} ENABLE ${state}TRIGGER ${quoteIdent(trigger.name)}`)
    }
    return result
  }

  /** Runs `body`, any failure as a DbsnapError. */
  async #guard<T>(
    what: string,
    signal: AbortSignal | undefined,
    body: () => Promise<T>,
  ): Promise<T> {
    try {
      return await body()
    } catch (err) {
      throw this.#error(err, what, signal)
    }
  }

  /** One transaction; rolled back on any failure, which then rejects as a DbsnapError. */
  async #transaction<T>(signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
    throwIfAborted(signal)
    await this.#query('BEGIN')
    try {
      const result = await body()
      throwIfAborted(signal)
      await this.#query('COMMIT')
      return result
    } catch (err) {
      await this.#client.query('ROLLBACK').catch(() => undefined)
      throw err
    }
  }

  /**
   * Runs one statement built from the manifest, after checking that it is one statement of its
   * step's kind, and through the extended query protocol (Parse/Bind/Execute), in which the
   * server refuses a text of more than one statement: two guards against a tampered manifest.
   */
  async #run(statement: DdlStatement, signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal)
    checkStatement(statement)
    try {
      await this.#client.query(extended(statement.sql))
    } catch (err) {
      if (typeof err === 'object' && err !== null) failedStatements.set(err, statement)
      throw err
    }
  }

  /** Runs a CREATE under a savepoint: an object that already exists is kept. */
  async #runKeepingExisting(
    statement: DdlStatement,
    signal: AbortSignal | undefined,
    options: { skipMissing?: boolean; skipDenied?: boolean } = {},
  ): Promise<void> {
    await this.#query('SAVEPOINT dbsnap_create')
    try {
      await this.#run(statement, signal)
      await this.#query('RELEASE SAVEPOINT dbsnap_create')
    } catch (err) {
      const code = sqlstate(err)
      const missing = options.skipMissing === true && code === '42P01'
      const denied = options.skipDenied === true && code === '42501'
      if (!ALREADY_EXISTS.has(code ?? '') && !missing && !denied) throw err
      await this.#query('ROLLBACK TO SAVEPOINT dbsnap_create; RELEASE SAVEPOINT dbsnap_create')
      if (missing) {
        this.warnings.push(
          `${statement.action} ${statement.object} left out: the table it references is not in the target`,
        )
      }
      if (denied) {
        const message = err instanceof Error ? scrub(err.message, this.#target) : String(err)
        this.warnings.push(`${statement.action} ${statement.object} left out: ${message}`)
      }
    }
  }

  /** Once per target: a read-only target is refused before anything is written. */
  async #checkWritable(): Promise<void> {
    if (this.#writable) return
    await checkWritable(this.#client, this.#target)
    this.#writable = true
  }

  async #query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]> {
    return (await this.#client.query(sql, values)).rows as R[]
  }

  /** A failure as a DbsnapError: read-only, privileges, conflicts, lost connections, the rest. */
  #error(err: unknown, what: string, signal: AbortSignal | undefined): DbsnapError {
    if (signal?.aborted === true) return abortError(signal)
    if (isDbsnapError(err)) return err
    const code = sqlstate(err)
    const statement =
      typeof err === 'object' && err !== null ? failedStatements.get(err) : undefined
    const message = err instanceof Error ? err.message : String(err)
    const details = {
      ...(code === undefined ? {} : { sqlstate: code }),
      ...(statement === undefined ? {} : { step: `${statement.action} ${statement.object}` }),
    }
    const during = statement === undefined ? '' : ` (${statement.action} ${statement.object})`
    switch (code ?? '') {
      case '25006':
        return new DbsnapError('TARGET_READ_ONLY', `the target is read-only: ${message}`, {
          cause: err,
          details,
        })
      case '42501':
        return new DbsnapError('CONNECTION_PRIVILEGE_MISSING', `${what}${during}: ${message}`, {
          cause: err,
          details,
        })
      case '23505': {
        const detail = (err as { detail?: unknown }).detail
        return new DbsnapError(
          'TARGET_CONFLICT',
          `${what}: a row's key is already in the target${typeof detail === 'string' ? ` (${detail})` : ''}; use --on-conflict skip or update, or --mode overwrite`,
          {
            cause: err,
            details: { ...details, constraint: (err as { constraint?: unknown }).constraint },
          },
        )
      }
    }
    const mapped = postgresQueryError(err, this.#target)
    if (mapped.code === 'CONNECTION_LOST' || mapped.code === 'CONNECTION_TIMEOUT') return mapped
    // The server's own words: postgresQueryError's are a snapshot's ("the source changed while
    // it was being read" for an undefined object), which misleads about a restore's DDL.
    return new DbsnapError(
      'RESTORE_FAILED',
      `${what} failed${during}: ${scrub(message, this.#target)}`,
      {
        cause: err,
        details,
      },
    )
  }
}

function step(statement: DdlStatement): RestoreStep {
  return { action: statement.action, object: statement.object }
}

/** A `setval` that only moves the sequence forward; null for a sequence never called. */
function forwardOnly(statement: DdlStatement): DdlStatement | null {
  const match = /setval\('(.*)', (-?\d+), true\)$/.exec(statement.sql)
  if (match === null) return null
  const [, relation, value] = match
  return {
    ...statement,
    sql: `SELECT pg_catalog.setval('${relation}', ${value}, true) FROM ${relation!.replaceAll("''", "'")}
           WHERE NOT is_called OR last_value < ${value}`,
  }
}

/**
 * node-postgres sends a query with `queryMode: 'extended'` as Parse/Bind/Execute even without
 * parameters (pg 8.12+; @types/pg does not declare the option).
 */
export function extended(text: string): pg.QueryConfig {
  const config: pg.QueryConfig & { queryMode: 'extended' } = { text, queryMode: 'extended' }
  return config
}

function sqlstate(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}
