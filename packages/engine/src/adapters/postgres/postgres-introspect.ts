// Reads a PostgreSQL database's schema from the system catalogs into the normalized
// DatabaseSchema: one read-only query per object kind, inside the caller's transaction.

import type { ConnectionTarget } from '../../connection/url.js'
import {
  DbsnapError,
  abortError,
  isDbsnapError,
  throwIfAborted,
  type ErrorCode,
} from '../../errors.js'
import type {
  CastSchema,
  CommentSchema,
  CompositeTypeSchema,
  DatabaseSchema,
  EnumSchema,
  EventTriggerSchema,
  ExtensionSchema,
  OperatorSchema,
  PublicationSchema,
  QualifiedName,
  RangeTypeSchema,
  RoutineSchema,
  RuleSchema,
  TableSchema,
  TextSearchConfigSchema,
  TriggerSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { compareQualified, compareText } from '../catalog-order.js'
import { endpoint, scrub } from '../connect-errors.js'
import { LOCKED_MESSAGE, postgresError } from './postgres-errors.js'
import { PG_SESSION_SETTINGS } from './postgres-values.js'
import {
  COMMENT_KINDS,
  POLICY_COMMANDS,
  TRIGGER_FIRING,
  addConstraint,
  toCollation,
  toColumn,
  toDomain,
  toIndex,
  toRoutine,
  toSequence,
  toTable,
  toView,
  type CollationRow,
  type ColumnRow,
  type ConstraintRow,
  type DomainRow,
  type EventTriggerRow,
  type IndexRow,
  type PolicyRow,
  type PublicationRow,
  type RangeRow,
  type RoutineRow,
  type RuleRow,
  type SequenceRow,
  type ServerRow,
  type StatisticsRow,
  type TableRow,
  type TriggerRow,
  type ViewRow,
} from './postgres-schema-map.js'
import {
  SQL_CASTS,
  SQL_COLUMNS,
  SQL_COMMENTS,
  SQL_COMPOSITES,
  SQL_DOMAINS,
  SQL_ENUMS,
  SQL_EVENT_TRIGGERS,
  SQL_EXTENSIONS,
  SQL_OPERATORS,
  SQL_POLICIES,
  SQL_ROUTINES,
  SQL_RULES,
  SQL_SCHEMAS,
  SQL_SEQUENCES,
  SQL_SERVER,
  SQL_SET,
  SQL_STATISTICS,
  SQL_TABLES,
  SQL_TEXT_SEARCH_CONFIGS,
  SQL_TRIGGERS,
  SQL_VIEWS,
  sqlCollations,
  sqlConstraints,
  sqlIndexes,
  sqlPublications,
  sqlRanges,
} from './postgres-catalog.js'
import type { PgRuleExtra, PgTableExtra, PgTriggerExtra } from './postgres-schema-extra.js'
import { DEFAULT_TIMEOUT_MS } from '../source-adapter.js'

/**
 * The part of a node-postgres `Client` (or `PoolClient`) introspection uses. Queries run in
 * the order they are issued on one connection, so they all see the caller's transaction.
 */
export interface PgQueryable {
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>
}

export interface IntrospectPostgresOptions {
  /** Checked between queries; an aborted introspection rejects with `ABORTED`. */
  signal?: AbortSignal
  /**
   * Only these schemas (exact names, case-sensitive). System schemas are never reported, even
   * when named here. Extensions are database-wide and always reported.
   */
  schemas?: string[]
  /** The connection's target, so connection failures map like every other PostgreSQL call. */
  target?: ConnectionTarget
  /** The connection's query timeout in milliseconds, named in timeout messages. Default 10 000. */
  timeoutMs?: number
  /**
   * More connections in the same transaction snapshot (a read view's readers, idle until the
   * rows are read): the catalog reads are spread over them and `client`, so that a small
   * database's schema costs fewer round trips one after another. Their settings are pinned and
   * restored as `client`'s are.
   */
  helpers?: PgQueryable[]
}

const MIN_VERSION_NUM = 130000

/**
 * Settings pinned while introspecting, because the server's deparsers print according to them:
 * an empty search_path makes every name outside pg_catalog schema-qualified (as pg_dump does),
 * and the value settings fix how constants in defaults and checks are printed. The result is
 * then the same whoever connects, and every definition is valid DDL in any database.
 * client_encoding is the driver's and is left alone.
 */
const PINNED_SETTINGS: readonly (readonly [string, string])[] = [
  ['search_path', ''],
  ['quote_all_identifiers', 'off'],
  ...Object.entries(PG_SESSION_SETTINGS).filter(([name]) => name !== 'client_encoding'),
]

/**
 * Reads the schema of the database `client` is connected to.
 *
 * Runs inside the caller's transaction (a snapshot opens `REPEATABLE READ READ ONLY` first, so
 * schema and rows agree) and issues only catalog reads — one per object kind, so the cost does
 * not grow with a round trip per table. Session settings that change how the server prints
 * definitions are pinned for the duration and restored afterwards (see `PINNED_SETTINGS`).
 * Objects of system schemas and members of extensions are left out; every list is sorted by
 * (schema, name) — overloads by arguments — while columns and key columns keep their order.
 *
 * Rejects with a DbsnapError: `ABORTED` when `signal` fires, `SOURCE_CHANGED` when an object
 * disappears between catalog reads, `QUERY_FAILED` for other SQL errors, `CONNECTION_*`
 * when the connection fails.
 *
 * @example
 * await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
 * const schema = await introspectPostgres(client, { signal, schemas: ['public', 'sales'] })
 */
export async function introspectPostgres(
  client: PgQueryable,
  options: IntrospectPostgresOptions = {},
): Promise<DatabaseSchema> {
  const runOn =
    (on: PgQueryable, signal: AbortSignal | undefined): Run =>
    async <R>(what: string, sql: string, values: unknown[]): Promise<R[]> => {
      throwIfAborted(signal)
      let rows: R[]
      try {
        rows = (await on.query<R>(sql, values)).rows
      } catch (err) {
        throw introspectionError(err, what, { ...options, signal })
      }
      // Queries are issued together: an abort is seen as the next one answers.
      throwIfAborted(signal)
      return rows
    }
  const names = PINNED_SETTINGS.map(([name]) => name)
  const clients = [client, ...(options.helpers ?? [])]
  const runs = clients.map((on) => runOn(on, options.signal))
  // Each connection's own settings, to give back; the first also tells the server's version.
  const found = await allSettled(
    runs.map((run) => run<ServerRow>('the server version', SQL_SERVER, [names])),
  )
  const server = found[0]![0]
  if (server === undefined || found.some((rows) => rows[0] === undefined)) {
    throw new DbsnapError('INTERNAL', 'PostgreSQL returned no row for the server version')
  }
  if (server.version < MIN_VERSION_NUM) {
    throw new DbsnapError(
      'QUERY_FAILED',
      `PostgreSQL ${versionText(server.version)} is not supported: DBSnap reads the schema of PostgreSQL 13 or newer`,
      { details: { serverVersionNum: server.version } },
    )
  }
  // Not cancellable: the caller's sessions get their own settings back even when aborting.
  const restore = (): Promise<unknown> =>
    allSettled(
      clients.map((on, i) =>
        runOn(on, undefined)('session settings', SQL_SET, [names, found[i]![0]!.settings]),
      ),
    )
  const pinned = PINNED_SETTINGS.map(([, value]) => value)
  try {
    await allSettled(runs.map((run) => run('session settings', SQL_SET, [names, pinned])))
  } catch (err) {
    await restore().catch(() => undefined)
    throw err
  }
  const queue = new CatalogQueue(runs)
  let schema: DatabaseSchema
  try {
    schema = await readSchema(queue.run, server.version, options.schemas ?? null)
  } catch (err) {
    // The queries already running finish first (a connection takes one query at a time); the
    // rest are not started. Usually the transaction is aborted now and its rollback undoes the
    // settings anyway.
    await queue.drained()
    await restore().catch(() => undefined)
    throw err
  }
  await restore()
  return schema
}

type Run = <R>(what: string, sql: string, values: unknown[]) => Promise<R[]>

/**
 * Catalog queries waiting for a connection. Each connection takes the next query as soon as it
 * is free — node-postgres must not be handed a query while one runs — so a connection that drew
 * short queries does not sit idle while another still has long ones to run. Once a query fails,
 * those not started yet are not run: they reject with the same error.
 */
class CatalogQueue {
  readonly #free: Run[]
  readonly #waiting: { start: (on: Run) => Promise<void>; drop: (err: Error) => void }[] = []
  #running = 0
  #failure: Error | undefined
  readonly #onDrained: (() => void)[] = []

  constructor(runs: Run[]) {
    this.#free = [...runs]
  }

  readonly run: Run = <R>(what: string, sql: string, values: unknown[]): Promise<R[]> =>
    new Promise<R[]>((resolve, reject) => {
      this.#waiting.push({
        start: async (on) => {
          try {
            resolve(await on<R>(what, sql, values))
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err))
            this.#failure ??= error
            reject(error)
          }
        },
        drop: reject,
      })
      this.#pump()
    })

  /** Resolves once no query runs and none waits. */
  drained(): Promise<void> {
    if (this.#idle()) return Promise.resolve()
    return new Promise((resolve) => this.#onDrained.push(resolve))
  }

  #idle(): boolean {
    return this.#running === 0 && this.#waiting.length === 0
  }

  #pump(): void {
    if (this.#failure !== undefined) {
      for (const query of this.#waiting.splice(0)) query.drop(this.#failure)
    }
    while (this.#free.length > 0 && this.#waiting.length > 0) {
      const on = this.#free.shift()!
      const query = this.#waiting.shift()!
      this.#running++
      void query.start(on).then(() => {
        this.#running--
        this.#free.push(on)
        this.#pump()
      })
    }
    if (this.#idle()) for (const resolve of this.#onDrained.splice(0)) resolve()
  }
}

/**
 * `Promise.all` that waits for every query, also after one fails: nothing may still run on a
 * connection when the caller goes on to use it.
 */
async function allSettled<T>(queries: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(queries)
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value)
}

async function readSchema(
  run: Run,
  version: number,
  schemaFilter: string[] | null,
): Promise<DatabaseSchema> {
  const params = [schemaFilter]
  // Issued at once: on one connection they run in turn as before, on several side by side. The
  // costliest to plan and run come first, so that no connection is left with a long one at the end.
  const [
    columnRows,
    indexRows,
    tableRows,
    constraintRows,
    comments,
    viewRows,
    schemas,
    compositeRows,
    triggerRows,
    ruleRows,
    policyRows,
    statisticsRows,
    rangeRows,
    operatorRows,
    castRows,
    textSearchRows,
    collationRows,
    routineRows,
    sequenceRows,
    enumRows,
    domainRows,
    extensionRows,
    eventTriggerRows,
    publicationRows,
  ] = await Promise.all([
    run<ColumnRow>('columns', SQL_COLUMNS, params),
    run<IndexRow>('indexes', sqlIndexes(version), params),
    run<TableRow>('tables', SQL_TABLES, params),
    run<ConstraintRow>('constraints', sqlConstraints(version), params),
    run<CommentSchema>('comments', SQL_COMMENTS, [schemaFilter, COMMENT_KINDS]),
    run<ViewRow>('views', SQL_VIEWS, params),
    run<{ name: string }>('schemas', SQL_SCHEMAS, params),
    run<{ oid: string } & QualifiedName>('composite types', SQL_COMPOSITES, params),
    run<TriggerRow>('triggers', SQL_TRIGGERS, params),
    run<RuleRow>('rules', SQL_RULES, params),
    run<PolicyRow>('policies', SQL_POLICIES, params),
    run<StatisticsRow>('statistics objects', SQL_STATISTICS, params),
    run<RangeRow>('range types', sqlRanges(version), params),
    run<OperatorSchema>('operators', SQL_OPERATORS, params),
    run<CastSchema>('casts', SQL_CASTS, params),
    run<TextSearchConfigSchema>('text search configurations', SQL_TEXT_SEARCH_CONFIGS, params),
    run<CollationRow>('collations', sqlCollations(version), params),
    run<RoutineRow>('functions', SQL_ROUTINES, params),
    run<SequenceRow>('sequences', SQL_SEQUENCES, params),
    run<EnumSchema>('enums', SQL_ENUMS, params),
    run<DomainRow>('domains', SQL_DOMAINS, params),
    run<ExtensionSchema>('extensions', SQL_EXTENSIONS, []),
    run<EventTriggerRow>('event triggers', SQL_EVENT_TRIGGERS, []),
    run<PublicationRow>('publications', sqlPublications(version), []),
  ])

  const tables = new Map<string, { table: TableSchema; extra: PgTableExtra }>()
  for (const row of tableRows) tables.set(row.oid, toTable(row))
  const views = new Map<string, ViewSchema & { triggers: TriggerSchema[] }>()
  for (const row of viewRows) views.set(row.oid, toView(row))
  const composites = new Map<string, CompositeTypeSchema>()
  for (const row of compositeRows) {
    composites.set(row.oid, { schema: row.schema, name: row.name, attributes: [] })
  }

  for (const row of columnRows.sort((a, b) => a.num - b.num)) {
    const table = tables.get(row.rel)?.table
    if (table !== undefined) table.columns.push(toColumn(row))
    views.get(row.rel)?.columns.push({ name: row.name, type: row.type })
    composites.get(row.rel)?.attributes.push({ name: row.name, type: row.type })
  }

  for (const row of constraintRows) {
    const entry = tables.get(row.rel)
    if (entry !== undefined) addConstraint(entry.table, entry.extra, row)
  }

  for (const row of indexRows) {
    const owner = tables.get(row.rel)?.table ?? views.get(row.rel)
    owner?.indexes.push(toIndex(row))
  }

  for (const row of triggerRows) {
    const owner = tables.get(row.rel)?.table ?? views.get(row.rel)
    owner?.triggers.push({
      name: row.name,
      definition: row.definition,
      enabled: row.enabled !== 'D',
      extra: {
        firing: TRIGGER_FIRING[row.enabled] ?? 'origin',
        inherited: row.inherited,
      } satisfies PgTriggerExtra,
    })
  }

  for (const row of ruleRows) {
    const rule: RuleSchema = {
      name: row.name,
      definition: row.definition,
      extra: { firing: TRIGGER_FIRING[row.enabled] ?? 'origin' } satisfies PgRuleExtra,
    }
    const table = tables.get(row.rel)?.table
    if (table !== undefined) table.rules!.push(rule)
    const view = views.get(row.rel)
    // A view gets the list only when it has rules, so a view without any compares equal to
    // one in a snapshot taken before rules were read (views are compared as a whole).
    if (view !== undefined) (view.rules ??= []).push(rule)
  }

  for (const row of policyRows) {
    const extra = tables.get(row.rel)?.extra
    if (extra === undefined) continue
    ;(extra.policies ??= []).push({
      name: row.name,
      permissive: row.permissive,
      command: POLICY_COMMANDS[row.command] ?? 'all',
      roles: row.roles,
      using: row.using_expr,
      check: row.check_expr,
    })
  }

  for (const { rel, target, ...statistics } of statisticsRows) {
    const extra = tables.get(rel)?.extra
    if (extra === undefined) continue
    ;(extra.statistics ??= []).push({ ...statistics, ...(target === null ? {} : { target }) })
  }

  const byName = (a: { name: string }, b: { name: string }): number => compareText(a.name, b.name)
  for (const { table, extra } of tables.values()) {
    table.uniqueKeys.sort(byName)
    table.indexes.sort(byName)
    table.foreignKeys.sort(byName)
    table.checks.sort(byName)
    table.triggers.sort(byName)
    table.rules!.sort(byName)
    extra.exclusionConstraints.sort(byName)
    extra.policies?.sort(byName)
    extra.statistics?.sort(compareQualified)
  }
  for (const view of views.values()) {
    view.indexes.sort(byName)
    view.triggers.sort(byName)
    view.rules?.sort(byName)
  }

  return {
    engine: 'postgres',
    schemas: schemas.map((row) => row.name).sort(compareText),
    tables: [...tables.values()].map((entry) => entry.table).sort(compareQualified),
    views: [...views.values()].sort(compareQualified),
    routines: routineRows.map(toRoutine).sort(compareRoutines),
    sequences: sequenceRows.map(toSequence).sort(compareQualified),
    enums: enumRows
      .map((row) => ({ schema: row.schema, name: row.name, values: row.values }))
      .sort(compareQualified),
    domains: domainRows.map(toDomain).sort(compareQualified),
    compositeTypes: [...composites.values()].sort(compareQualified),
    extensions: extensionRows
      .map((row) => ({ name: row.name, schema: row.schema, version: row.version }))
      .sort(byName),
    rangeTypes: rangeRows
      .map((row): RangeTypeSchema => ({
        schema: row.schema,
        name: row.name,
        subtype: row.subtype,
        subtypeOpclass: row.subtype_opclass,
        collation: row.collation,
        canonical: row.canonical,
        subtypeDiff: row.subtype_diff,
        multirange: row.multirange,
      }))
      .sort(compareQualified),
    collations: collationRows.map(toCollation).sort(compareQualified),
    operators: operatorRows
      .map((row) => ({ ...row }))
      .sort(
        (a, b) =>
          compareQualified(a, b) ||
          compareText(a.left ?? '', b.left ?? '') ||
          compareText(a.right ?? '', b.right ?? ''),
      ),
    casts: castRows
      .map((row) => ({ ...row }))
      .sort((a, b) => compareText(a.source, b.source) || compareText(a.target, b.target)),
    textSearchConfigs: textSearchRows
      .map((row) => ({
        schema: row.schema,
        name: row.name,
        parser: row.parser,
        mappings: row.mappings,
      }))
      .sort(compareQualified),
    eventTriggers: eventTriggerRows
      .map((row): EventTriggerSchema => ({
        name: row.name,
        event: row.event,
        tags: row.tags,
        function: row.function,
        firing: TRIGGER_FIRING[row.enabled] ?? 'origin',
      }))
      .sort(byName),
    publications: publicationRows
      .map((row): PublicationSchema => ({
        name: row.name,
        allTables: row.all_tables,
        publish: (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => row[op]),
        viaPartitionRoot: row.via_root,
        tables: row.tables,
        schemas: row.schemas,
      }))
      .sort(byName),
    comments: comments
      .map((row) => ({ kind: row.kind, names: row.names, args: row.args, comment: row.comment }))
      .sort(
        (a, b) =>
          compareText(a.kind, b.kind) ||
          compareText(a.names.join('.'), b.names.join('.')) ||
          compareText(a.args.join(','), b.args.join(',')),
      ),
  }
}

function compareRoutines(a: RoutineSchema, b: RoutineSchema): number {
  return compareQualified(a, b) || compareText(a.arguments, b.arguments)
}

function versionText(num: number): string {
  return num >= 100000
    ? `${Math.floor(num / 10000)}`
    : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}`
}

/** SQLSTATE classes of connection-level failures: connection, authorization, database, operator. */
const CONNECTION_SQLSTATE = /^(08|28|3D|57)/

/**
 * A driver error of one catalog read -> DbsnapError. SQL errors are the query's own
 * (`QUERY_FAILED`; `SOURCE_CHANGED` for the "cache lookup failed" of an object dropped by a
 * concurrent transaction between our snapshot and the server's catalog caches); connection
 * failures map through postgresError when the target is known.
 */
function introspectionError(
  err: unknown,
  what: string,
  options: IntrospectPostgresOptions,
): DbsnapError {
  if (isDbsnapError(err)) return err
  if (options.signal?.aborted === true) return abortError(options.signal)
  const raw = err instanceof Error ? err.message : String(err)
  const message = options.target === undefined ? raw : scrub(raw, options.target)
  const code = (err as { code?: unknown } | null)?.code
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
  const details = { objects: what, ...(sqlstate === undefined ? {} : { sqlstate }) }
  const make = (errorCode: ErrorCode, text: string, retryable: boolean): DbsnapError =>
    new DbsnapError(errorCode, text, { cause: err, retryable, details })
  if (sqlstate === 'XX000' && /cache lookup failed/i.test(raw)) {
    return make(
      'SOURCE_CHANGED',
      `the schema changed while reading ${what} (${message}); try again`,
      true,
    )
  }
  if (sqlstate === '55P03') {
    return make('SOURCE_CHANGED', LOCKED_MESSAGE, true)
  }
  if (sqlstate !== undefined && !CONNECTION_SQLSTATE.test(sqlstate)) {
    return make('QUERY_FAILED', `reading ${what} from PostgreSQL failed: ${message}`, false)
  }
  // node-postgres refuses queries on a client whose connection already failed (the server
  // ended it while idle); that is a lost connection, which postgresError does not know.
  if (/not queryable/i.test(raw)) {
    const where = options.target === undefined ? 'PostgreSQL' : endpoint(options.target)
    return make(
      'CONNECTION_LOST',
      `the connection to ${where} was lost before reading ${what}`,
      true,
    )
  }
  if (options.target !== undefined) {
    return postgresError(err, options.target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  }
  if (/timeout/i.test(raw)) {
    return make('CONNECTION_TIMEOUT', `PostgreSQL did not answer while reading ${what}`, true)
  }
  return make(
    'CONNECTION_LOST',
    `the PostgreSQL connection failed while reading ${what}: ${message}`,
    true,
  )
}
