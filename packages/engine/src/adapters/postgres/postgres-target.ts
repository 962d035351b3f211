// PostgreSQL restore target: recreates a snapshot's schema objects and loads its rows with
// COPY FROM STDIN, one transaction per table, so that a failure leaves each table as it was.

import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { CanonicalValue } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import { tableName } from '../../repository/manifest.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import { DEFAULT_TIMEOUT_MS, type ServerDescription } from '../source-adapter.js'
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
import { describePostgres, openPostgresClient } from './postgres-adapter.js'
import {
  PG_RESTORE_SETTINGS,
  copyColumns,
  copyFromStatement,
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
import { checkStatement } from './postgres-statement.js'
import type { PgKeyExtra } from './postgres-schema-extra.js'
import { copyText } from './postgres-sql.js'
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

/** A table of the target, as the catalog has it. */
interface TargetTable {
  oid: string
  kind: string
}

/** What keeps a table from being dropped and created again. */
interface Dependents {
  /** Foreign keys into it: `restored` when their table is restored too (recreated in finish). */
  foreignKeys: {
    name: string
    table: QualifiedName
    onDelete: string
    deferrable: boolean
    restored: boolean
  }[]
  /** Views reading it, deepest first: `restored` when the restore recreates them. */
  views: { name: QualifiedName; materialized: boolean; restored: boolean }[]
  /** Tables inheriting from it (plain inheritance). */
  children: QualifiedName[]
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

  describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    return describePostgres(this.#client, this.#target, this.#timeoutMs, options.signal)
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
    for (const table of tables) {
      throwIfAborted(signal)
      const found = await this.#table(table)
      if (found === null) {
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
    for (const table of objects.tables) {
      throwIfAborted(signal)
      const found = await this.#table(table)
      const name = tableName(table)
      if (found !== null && mode === 'append') {
        steps.push({ action: 'append rows', object: name })
        continue
      }
      if (found !== null) {
        const dependents = await this.#dependents(found, objects)
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
      await this.#checkVersion(objects)
      await this.#checkPrivileges(objects, mode)
    })
    this.#objects = objects
    // A table that must be kept and cannot be is refused before any table is written, so no
    // earlier table's transaction has changed anything (dropped a key into it) by then.
    if (mode === 'overwrite') {
      await this.#guard('checking the target', options.signal, async () => {
        for (const table of objects.tables) {
          const found = await this.#table(table)
          if (found === null) continue
          const dependents = await this.#dependents(found, objects)
          if (keepsTable(dependents)) await this.#checkReplaceable(table, dependents)
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
      for (const parent of neededObjects(objects).parents) {
        if ((await this.#table(parent)) !== null) continue
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
      const found = await this.#table(table)
      if (found !== null && options.mode === 'append') {
        return this.#withoutUserTriggers(table, () => this.#append(table, rows, options, counted))
      }
      if (found !== null) {
        const dependents = await this.#dependents(found, this.#objects)
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
      await this.#copy(table, copyFromStatement(table), rows, signal, counted)
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
    await this.#client.end().catch(() => undefined)
  }

  /** Appends rows: COPY straight in (`fail`), or through a temporary table (`skip`, `update`). */
  async #append(
    table: TableSchema,
    rows: TableRows,
    options: RestoreTableOptions,
    counted: (rows: number) => void,
  ): Promise<RestoreTableResult> {
    const { signal } = options
    const name = qualifiedName(table)
    const columns = copyColumns(table).map((i) => table.columns[i]!)
    const list = columns.map((c) => quoteIdent(c.name)).join(', ')
    let total = 0
    const count = (n: number): void => {
      total += n
      counted(n)
    }
    // `--only-changed`: the rows to delete go first, in this same transaction.
    await this.#deleteKeys(table, options.deleteKeys ?? [], signal)
    if (options.onConflict === 'fail') {
      await this.#copy(table, copyFromStatement(table), rows, signal, count)
      return { inserted: total, updated: 0, skipped: 0 }
    }
    const key = table.primaryKey?.columns ?? null
    if (options.onConflict === 'update' && key === null) {
      throw new DbsnapError(
        'TARGET_SCHEMA_MISMATCH',
        `cannot append to ${table.schema}.${table.name} with --on-conflict update: it has no primary key to match rows by`,
      )
    }
    const temp = quoteIdent('dbsnap_append')
    await this.#query(
      `CREATE TEMPORARY TABLE ${temp} ON COMMIT DROP AS SELECT ${list} FROM ${name} WITH NO DATA`,
    )
    await this.#copy(table, copyFromStatement(table, `pg_temp.${temp}`), rows, signal, count)
    const overriding = columns.some((c) => c.identity === 'always')
      ? ' OVERRIDING SYSTEM VALUE'
      : ''
    const target = key === null ? '' : ` (${key.map(quoteIdent).join(', ')})`
    const updates = columns.filter((c) => !(key ?? []).includes(c.name) && c.identity !== 'always')
    const action =
      options.onConflict === 'skip' || updates.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${updates.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`
    // xmax is 0 on a row this statement inserted, and set on one it updated.
    const [result] = await this.#query<{ inserted: number; updated: number }>(
      `WITH written AS (
         INSERT INTO ${name} (${list})${overriding} SELECT ${list} FROM pg_temp.${temp}
         ON CONFLICT${target} ${action} RETURNING (xmax = 0) AS fresh)
       SELECT count(*) FILTER (WHERE fresh)::int AS inserted,
              count(*) FILTER (WHERE NOT fresh)::int AS updated FROM written`,
    )
    const inserted = result?.inserted ?? 0
    const updated = result?.updated ?? 0
    return { inserted, updated, skipped: total - inserted - updated }
  }

  /**
   * `restore --only-changed`: deletes the rows with these keys, 1000 a statement. Each key value
   * goes as its canonical text, which is the column type's own input form, cast to that type.
   */
  async #deleteKeys(
    table: TableSchema,
    keys: CanonicalValue[][],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (keys.length === 0) return
    const key = (table.primaryKey?.columns ?? []).map((name) =>
      table.columns.find((column) => column.name === name)!,
    )
    const match = key
      .map((column, i) => `t.${quoteIdent(column.name)} = d.k${i}::${column.type}`)
      .join(' AND ')
    const sql = `DELETE FROM ${qualifiedName(table)} t
      USING unnest(${key.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS d(${key.map((_, i) => `k${i}`).join(', ')})
      WHERE ${match}`
    for (let at = 0; at < keys.length; at += 1000) {
      throwIfAborted(signal)
      const batch = keys.slice(at, at + 1000)
      const columns = key.map((_, i) =>
        batch.map((values) => (values[i] === null ? null : String(values[i]))),
      )
      await this.#query(sql, columns).catch((err: unknown) => {
        throw postgresQueryError(err, this.#target)
      })
    }
  }

  /**
   * A table kept because other objects depend on it can have its rows replaced only if no table
   * outside the restore references it through a key that would change or block on the delete,
   * and if its columns are the snapshot's.
   */
  async #checkReplaceable(table: TableSchema, dependents: Dependents): Promise<void> {
    const relation = `${table.schema}.${table.name}`
    const blocking = dependents.foreignKeys.filter(
      (fk) => !fk.restored && (fk.onDelete !== 'a' || !fk.deferrable),
    )
    if (blocking.length > 0) {
      const names = blocking.map((fk) => `${fk.name} on ${fk.table.schema}.${fk.table.name}`)
      throw new DbsnapError(
        'RESTORE_FAILED',
        `cannot replace ${relation}: tables not being restored reference it through foreign key ${names.join(', ')}, which would change or block on its rows being replaced; restore those tables too, or make the key DEFERRABLE`,
        { details: { table: relation, foreignKeys: names } },
      )
    }
    const have = await this.#query<{ name: string; type: string }>(
      `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0
          AND NOT a.attisdropped ORDER BY a.attnum`,
      [qualifiedName(table)],
    )
    const want = table.columns.map((c) => `${c.name} ${c.type}`).join(', ')
    const got = have.map((c) => `${c.name} ${c.type}`).join(', ')
    if (want !== got) {
      throw new DbsnapError(
        'TARGET_SCHEMA_MISMATCH',
        `cannot replace ${relation}: it must be kept (other objects depend on it) but its columns differ from the snapshot's: expected (${want}), got (${got})`,
        { details: { table: relation } },
      )
    }
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
    await this.#checkReplaceable(table, dependents)
    for (const fk of dependents.foreignKeys.filter((fk) => fk.restored)) {
      await this.#query(
        `ALTER TABLE ${qualifiedName(fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`,
      )
    }
    const name = qualifiedName(table)
    await this.#withoutUserTriggers(table, async () => {
      await this.#query('SET CONSTRAINTS ALL DEFERRED')
      await this.#query(`DELETE FROM ONLY ${name}`)
      await this.#copy(table, copyFromStatement(table), rows, signal, counted)
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

  /** Streams the rows into `COPY … FROM STDIN`; a failure part-way aborts the COPY (CopyFail). */
  async #copy(
    table: TableSchema,
    sql: string,
    rows: TableRows,
    signal: AbortSignal | undefined,
    counted: (rows: number) => void,
  ): Promise<void> {
    throwIfAborted(signal)
    const stream = this.#client.query(copyFrom(sql))
    const batches = readAhead(rows.columns())
    const text = Readable.from(copyText(table, batches, counted), { objectMode: false })
    await pipeline(text, stream, { signal })
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

  async #query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]> {
    return (await this.#client.query(sql, values)).rows as R[]
  }

  async #table(table: QualifiedName): Promise<TargetTable | null> {
    const [row] = await this.#query<TargetTable>(
      `SELECT c.oid::text AS oid, c.relkind::text AS kind FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [table.schema, table.name],
    ).catch((err: unknown) => {
      throw postgresQueryError(err, this.#target)
    })
    return row ?? null
  }

  /** Foreign keys, views and inheritance children that a DROP TABLE would have to remove. */
  async #dependents(table: TargetTable, objects: RestoreObjects | null): Promise<Dependents> {
    const restoredTables =
      objects === null ? [] : [...objects.tables, ...neededObjects(objects).parents]
    const isRestored = (name: QualifiedName): boolean =>
      restoredTables.some((t) => t.schema === name.schema && t.name === name.name)
    // A foreign key into a partition is a clone of one into its parent: the root is the one to drop.
    const foreignKeys = await this.#query<{
      name: string
      schema: string
      table: string
      on_delete: string
      deferrable: boolean
    }>(
      `WITH RECURSIVE up(oid, parent) AS (
         SELECT c.oid, c.conparentid FROM pg_constraint c
          WHERE c.contype = 'f' AND c.confrelid = $1 AND c.conrelid <> $1
         UNION
         SELECT p.oid, p.conparentid FROM up JOIN pg_constraint p ON p.oid = up.parent)
       SELECT DISTINCT c.conname::text AS name, n.nspname::text AS schema, r.relname::text AS table,
              c.confdeltype::text AS on_delete, c.condeferrable AS deferrable
         FROM up JOIN pg_constraint c ON c.oid = up.oid
         JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE up.parent = 0`,
      [table.oid],
    )
    const views = await this.#query<{ schema: string; name: string; kind: string; depth: number }>(
      `WITH RECURSIVE deps(oid, depth) AS (
         SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
          WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
            AND d.refobjid = $1 AND r.ev_class <> $1
         UNION
         SELECT r.ev_class, deps.depth + 1 FROM deps
           JOIN pg_depend d ON d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass
            AND d.refclassid = 'pg_class'::regclass
           JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> deps.oid AND deps.depth < 50)
       SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
              max(deps.depth) AS depth
         FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
        GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
      [table.oid],
    )
    const children = await this.#query<QualifiedName>(
      `SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_inherits h
         JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE h.inhparent = $1 AND NOT c.relispartition`,
      [table.oid],
    )
    const snapshotViews = objects?.whole === true ? objects.schema.views : []
    return {
      foreignKeys: foreignKeys.map((fk) => {
        const from = { schema: fk.schema, name: fk.table }
        return {
          name: fk.name,
          table: from,
          onDelete: fk.on_delete,
          deferrable: fk.deferrable,
          restored: isRestored(from),
        }
      }),
      views: views.map((view) => ({
        name: { schema: view.schema, name: view.name },
        materialized: view.kind === 'm',
        restored: snapshotViews.some((v) => v.schema === view.schema && v.name === view.name),
      })),
      children,
    }
  }

  async #checkWritable(): Promise<void> {
    if (this.#writable) return
    const [state] = await this.#query<{ standby: boolean; read_only: string }>(
      `SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS read_only`,
    ).catch((err: unknown) => {
      throw postgresQueryError(err, this.#target)
    })
    if (state?.standby === true || state?.read_only === 'on') {
      throw new DbsnapError(
        'TARGET_READ_ONLY',
        state.standby
          ? `${this.#target.host}:${this.#target.port} is a hot standby (read-only); restore into the primary`
          : `the target database is read-only (default_transaction_read_only is on); nothing was written`,
        { details: { host: this.#target.host, port: this.#target.port } },
      )
    }
    this.#writable = true
  }

  /** Refuses a server too old for what the snapshot's schema uses. */
  async #checkVersion(objects: RestoreObjects): Promise<void> {
    const [row] = await this.#query<{ version: number }>(
      `SELECT current_setting('server_version_num')::int AS version`,
    )
    const version = row?.version ?? 0
    const lacking: string[] = []
    const tables = objects.tables
    const nullsNotDistinct = tables.some((t) =>
      [t.primaryKey, ...t.uniqueKeys].some(
        (k) => (k?.extra as PgKeyExtra | undefined)?.nullsNotDistinct === true,
      ),
    )
    if (version < 150000 && nullsNotDistinct)
      lacking.push('UNIQUE NULLS NOT DISTINCT (PostgreSQL 15)')
    const multirange = tables.some((t) => t.columns.some((c) => /multirange/.test(c.type)))
    if (version < 140000 && multirange) lacking.push('multirange types (PostgreSQL 14)')
    if (lacking.length > 0) {
      throw new DbsnapError(
        'TARGET_VERSION_UNSUPPORTED',
        `the target PostgreSQL (version ${version}) lacks what the snapshot uses: ${lacking.join(', ')}`,
        { details: { serverVersionNum: version, lacking } },
      )
    }
  }

  /** Says every privilege the restore lacks at once, before anything is written. */
  async #checkPrivileges(objects: RestoreObjects, mode: RestoreMode): Promise<void> {
    const schemas = [
      ...new Set([...neededObjects(objects).schemas, ...objects.tables.map((t) => t.schema)]),
    ]
    const rows = await this.#query<{
      schema: string
      exists: boolean
      create: boolean
      database: boolean
    }>(
      `SELECT s.name AS schema, n.oid IS NOT NULL AS exists,
              coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS create,
              has_database_privilege(current_database(), 'CREATE') AS database
         FROM unnest($1::text[]) AS s(name) LEFT JOIN pg_namespace n ON n.nspname = s.name`,
      [schemas],
    )
    const missing: string[] = []
    for (const row of rows) {
      if (row.exists && !row.create) missing.push(`CREATE on schema ${row.schema}`)
      if (!row.exists && !row.database)
        missing.push(`CREATE on database (to create schema ${row.schema})`)
    }
    for (const table of objects.tables) {
      const found = await this.#table(table)
      if (found === null) continue
      const [row] = await this.#query<{
        owner: boolean
        insert: boolean
        update: boolean
        triggers: boolean
      }>(
        `SELECT pg_has_role(c.relowner, 'USAGE') AS owner,
                has_table_privilege(c.oid, 'INSERT') AS insert,
                has_table_privilege(c.oid, 'UPDATE') AS update,
                EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid
                         AND NOT t.tgisinternal AND t.tgenabled <> 'D') AS triggers
           FROM pg_class c WHERE c.oid = $1`,
        [found.oid],
      )
      const name = `${table.schema}.${table.name}`
      if (mode === 'overwrite' && row?.owner === false)
        missing.push(`ownership of ${name} (to replace it)`)
      if (mode === 'append' && row?.insert === false) missing.push(`INSERT on ${name}`)
      if (mode === 'append' && row?.owner === false && row.triggers)
        missing.push(`ownership of ${name} (to keep its triggers from firing on restored rows)`)
    }
    if (missing.length > 0) {
      throw new DbsnapError(
        'CONNECTION_PRIVILEGE_MISSING',
        `user "${this.#target.user ?? 'the default user'}" lacks what the restore needs: ${missing.join(', ')}`,
        { details: { missing } },
      )
    }
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

/** True when the table must be kept and its rows replaced instead of dropping it. */
function keepsTable(dependents: Dependents): boolean {
  return (
    dependents.children.length > 0 ||
    dependents.views.some((view) => !view.restored) ||
    dependents.foreignKeys.some((fk) => !fk.restored)
  )
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
 * `source` with its next batch asked for while the current one is written, so that fetching a
 * chunk from storage overlaps the COPY instead of stalling it.
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]()
  let next = iterator.next()
  // Its failure is awaited below; until then it must not count as unhandled.
  next.catch(() => undefined)
  let done = false
  try {
    for (;;) {
      const result = await next
      if (result.done === true) {
        done = true
        return
      }
      next = iterator.next()
      next.catch(() => undefined)
      yield result.value
    }
  } finally {
    if (!done) await iterator.return?.().catch(() => undefined)
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
