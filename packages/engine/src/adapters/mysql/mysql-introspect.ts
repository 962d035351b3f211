// Reads a MySQL/MariaDB database's schema from information_schema (and SHOW CREATE for what only
// it tells: key order and algorithms, trigger, routine and event statements), inside the read view.

import type { Connection as PromiseConnection } from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import type {
  CheckSchema,
  ColumnSchema,
  DatabaseSchema,
  EventSchema,
  ForeignKeySchema,
  IndexSchema,
  KeyConstraintSchema,
  QualifiedName,
  RoutineSchema,
  SequenceSchema,
  TableSchema,
  TriggerSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { unqualified, withoutDefiner } from './mysql-ddl.js'
import { identifierText, lexMysql, type SqlToken } from './mysql-lexer.js'
import { mysqlQueryError } from './mysql-errors.js'
import { quoteIdentifier } from './mysql-read.js'
import { mysqlValueEncoding, mysqlValueKind } from './mysql-values.js'

export interface IntrospectMysqlOptions {
  /** Checked between queries; an aborted introspection rejects with `ABORTED`. */
  signal?: AbortSignal
  /** The connection's target, for error messages. */
  target: ConnectionTarget
}

/** `ColumnSchema.extra` on MySQL/MariaDB. */
export type MysqlColumnExtra = {
  /** `information_schema.columns.data_type`, lower case: what decides the value encoding. */
  dataType: string
  unsigned: boolean
  zerofill: boolean
  /** Characters of a string type, bytes of a binary one; null for other types. */
  length: number | null
  /** Digits of a numeric type (bits of BIT); null for other types. */
  precision: number | null
  scale: number | null
  /** Fractional-second digits of TIME, DATETIME, TIMESTAMP; null for other types. */
  fractionalSeconds: number | null
  charset: string | null
  collation: string | null
  autoIncrement: boolean
  /** `ON UPDATE` expression (`current_timestamp(3)`), or null. */
  onUpdate: string | null
  /** How a generated column is kept; null for an ordinary column. */
  generatedKind: 'virtual' | 'stored' | null
  invisible: boolean
}

/** `TableSchema.extra` on MySQL/MariaDB: the table options. */
export type MysqlTableExtra = {
  engine: string | null
  charset: string | null
  collation: string | null
  rowFormat: string | null
  /** `create_options` as the server lists them (`partitioned`, `row_format=COMPRESSED`…). */
  createOptions: string | null
  /** The next AUTO_INCREMENT value, as a decimal string; null without one. */
  autoIncrement: string | null
  /** MariaDB `SYSTEM VERSIONED` tables. */
  systemVersioned: boolean
  /**
   * The partitioning clause as SHOW CREATE TABLE ends with it (`PARTITION BY RANGE (…) (…)`);
   * null without one (and in snapshots taken before it was recorded).
   */
  partitioning?: string | null
  /**
   * Whether the table's engine reads consistently inside the snapshot's transaction (InnoDB,
   * MyRocks). MyISAM, Aria, MEMORY… are read as they are when read.
   */
  transactional: boolean
}

/** `IndexSchema.extra` on MySQL/MariaDB. */
export type MysqlIndexExtra = {
  /** Prefix length per indexed column (`name(10)`), null for a whole column. */
  subParts: (number | null)[]
  descending: boolean[]
  comment: string | null
  /** False for MySQL INVISIBLE and MariaDB IGNORED indexes. */
  visible: boolean
  /** The index's place among the table's keys, as the server lists them; null when not known. */
  position: number | null
}

/** `RoutineSchema.extra` on MySQL/MariaDB. */
export type MysqlRoutineExtra = {
  deterministic: boolean
  dataAccess: string
  security: string
  definer: string
  sqlMode: string
  comment: string
  /**
   * `character_set_client` and `collation_connection` of the session that created it, which
   * give its string literals their character set and collation (triggers and events too).
   */
  charsetClient?: string
  collationConnection?: string
}

/** Engines whose tables InnoDB's consistent snapshot (or an equivalent) covers. */
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'rocksdb', 'tokudb'])

interface ServerRow {
  db: string | null
  version: string
  comment: string
  user: string
  role: string | null
}

interface TableRow {
  name: string
  type: string
  engine: string | null
  rowFormat: string | null
  collation: string | null
  charset: string | null
  rows: string | number | null
  dataLength: string | number | null
  autoIncrement: string | number | null
  createOptions: string | null
  comment: string | null
}

interface ColumnRow {
  tableName: string
  name: string
  position: number
  defaultValue: string | null
  nullable: string
  dataType: string
  columnType: string
  length: string | number | null
  numericPrecision: string | number | null
  numericScale: string | number | null
  datetimePrecision: string | number | null
  charset: string | null
  collation: string | null
  extra: string | null
  generation: string | null
  comment: string | null
}

interface IndexRow {
  tableName: string
  name: string
  nonUnique: string | number
  seq: number
  columnName: string | null
  expression?: string | null
  subPart: string | number | null
  indexType: string
  ordering: string | null
  comment: string | null
  hidden: string | number | null
}

interface ForeignKeyRow {
  tableName: string
  name: string
  columnName: string
  position: number
  refSchema: string
  refTable: string
  refColumn: string
  onUpdate: string
  onDelete: string
}

interface CheckRow {
  tableName: string
  name: string
  clause: string
}

interface ViewRow {
  name: string
  definition: string | null
  checkOption: string
  updatable: string
  definer: string
  security: string
  algorithm?: string
  charsetClient: string
  collationConnection: string
}

interface RoutineRow {
  name: string
  type: string
  returns: string | null
  isDeterministic: string
  dataAccess: string
  security: string
  definer: string
  sqlMode: string
  comment: string
  charsetClient: string
  collationConnection: string
}

interface ParameterRow {
  routine: string
  type: string
  position: number
  mode: string | null
  name: string
  dataType: string
}

interface TriggerRow {
  name: string
  event: string
  tableName: string
  statement: string
  timing: string
  actionOrder: string | number | null
  definer: string
  sqlMode: string
  charsetClient: string
  collationConnection: string
}

interface EventRow {
  name: string
  status: string
  definer: string
  timeZone: string
  sqlMode: string
  comment: string
  charsetClient: string
  collationConnection: string
}

/** The numeric version of `version()` (`10.11.19-MariaDB` -> [10, 11]). */
function versionOf(text: string): [number, number] {
  const [major = 0, minor = 0] = text.split(/[.-]/).map(Number)
  return [major, minor]
}

/**
 * The schema of the connection's current database. QualifiedName.schema is '' for the
 * database's own objects (MySQL: database = schema); a foreign key to another database names it.
 *
 * Before reading, checks that the account can see everything a snapshot must hold: triggers
 * (TRIGGER), events (EVENT) and view definitions (SHOW VIEW); without them information_schema
 * silently leaves those objects out.
 *
 * @throws `INVALID_ARGUMENT` when the connection has no current database;
 *   `CONNECTION_PRIVILEGE_MISSING` naming the missing grant; `ABORTED`; query failures as
 *   `mysqlQueryError` maps them.
 */
export async function introspectMysql(
  connection: PromiseConnection,
  options: IntrospectMysqlOptions,
): Promise<DatabaseSchema> {
  const { signal, target } = options
  const run = async <R>(sql: string, values: unknown[] = []): Promise<R[]> => {
    throwIfAborted(signal)
    try {
      const [rows] = await connection.query(sql, values)
      return rows as R[]
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      if (isDbsnapError(err)) throw err
      throw mysqlQueryError(err, target)
    }
  }
  const [server] = await run<ServerRow>(
    'SELECT database() AS db, version() AS version, @@version_comment AS comment, current_user() AS user, current_role() AS role',
  )
  if (server === undefined) throw new DbsnapError('INTERNAL', 'no row for SELECT database()')
  const db = server.db
  if (db === null) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      'a MySQL/MariaDB snapshot reads one database: name it in the URL (mysql://host/<database>)',
    )
  }
  const mariadb = /mariadb/i.test(server.version) || /mariadb/i.test(server.comment)
  const [major, minor] = versionOf(server.version)

  const tableRows = await run<TableRow>(
    `SELECT t.table_name AS name, t.table_type AS type, t.engine AS engine, t.row_format AS rowFormat,
            t.table_collation AS collation, c.character_set_name AS charset, t.table_rows AS \`rows\`,
            t.data_length AS dataLength, t.auto_increment AS autoIncrement,
            t.create_options AS createOptions, t.table_comment AS comment
       FROM information_schema.tables t
       LEFT JOIN information_schema.collations c ON c.collation_name = t.table_collation
      WHERE t.table_schema = ?`,
    [db],
  )
  const hasViews = tableRows.some((t) => t.type === 'VIEW')
  await checkPrivileges(run, server, db, hasViews, target)

  const columnRows = await run<ColumnRow>(
    `SELECT table_name AS tableName, column_name AS name, ordinal_position AS position,
            column_default AS defaultValue, is_nullable AS nullable, data_type AS dataType,
            column_type AS columnType, character_maximum_length AS length,
            numeric_precision AS numericPrecision, numeric_scale AS numericScale,
            datetime_precision AS datetimePrecision, character_set_name AS charset,
            collation_name AS collation, extra AS extra, generation_expression AS generation,
            column_comment AS comment
       FROM information_schema.columns WHERE table_schema = ?`,
    [db],
  )
  // MySQL 8 indexes on expressions and invisible indexes; MariaDB 10.6+ ignored indexes.
  const indexExtras = mariadb
    ? major > 10 || (major === 10 && minor >= 6)
      ? ", ignored = 'YES' AS hidden"
      : ', 0 AS hidden'
    : ", expression AS expression, is_visible = 'NO' AS hidden"
  const indexRows = await run<IndexRow>(
    `SELECT table_name AS tableName, index_name AS name, non_unique AS nonUnique,
            seq_in_index AS seq, column_name AS columnName, sub_part AS subPart,
            index_type AS indexType, collation AS ordering, index_comment AS comment${indexExtras}
       FROM information_schema.statistics WHERE table_schema = ?`,
    [db],
  )
  const foreignKeyRows = await run<ForeignKeyRow>(
    `SELECT k.table_name AS tableName, k.constraint_name AS name, k.column_name AS columnName,
            k.ordinal_position AS position, k.referenced_table_schema AS refSchema,
            k.referenced_table_name AS refTable, k.referenced_column_name AS refColumn,
            r.update_rule AS onUpdate, r.delete_rule AS onDelete
       FROM information_schema.key_column_usage k
       JOIN information_schema.referential_constraints r
         ON r.constraint_schema = k.constraint_schema AND r.table_name = k.table_name
        AND r.constraint_name = k.constraint_name
      WHERE k.table_schema = ? AND k.referenced_table_name IS NOT NULL`,
    [db],
  )
  // MySQL's check_constraints has no table name (check names are unique per database there);
  // MariaDB's has one (names are unique per table, and column checks are named by the column).
  const checkRows = await run<CheckRow>(
    mariadb
      ? `SELECT table_name AS tableName, constraint_name AS name, check_clause AS clause
           FROM information_schema.check_constraints WHERE constraint_schema = ?`
      : `SELECT tc.table_name AS tableName, cc.constraint_name AS name, cc.check_clause AS clause
           FROM information_schema.table_constraints tc
           JOIN information_schema.check_constraints cc
             ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name
          WHERE tc.constraint_type = 'CHECK' AND tc.table_schema = ?`,
    [db],
  )
  const viewRows = await run<ViewRow>(
    `SELECT table_name AS name, view_definition AS definition, check_option AS checkOption,
            is_updatable AS updatable, definer AS definer, security_type AS security,
            character_set_client AS charsetClient, collation_connection AS collationConnection
            ${mariadb ? ', algorithm AS algorithm' : ''}
       FROM information_schema.views WHERE table_schema = ?`,
    [db],
  )
  const triggerRows = await run<TriggerRow>(
    `SELECT trigger_name AS name, event_manipulation AS event, event_object_table AS tableName,
            action_statement AS statement, action_timing AS timing, action_order AS actionOrder,
            definer AS definer, sql_mode AS sqlMode, character_set_client AS charsetClient,
            collation_connection AS collationConnection
       FROM information_schema.triggers WHERE trigger_schema = ?`,
    [db],
  )
  const routineRows = await run<RoutineRow>(
    `SELECT routine_name AS name, routine_type AS type, dtd_identifier AS returns,
            is_deterministic AS isDeterministic, sql_data_access AS dataAccess,
            security_type AS security, definer AS definer, sql_mode AS sqlMode,
            routine_comment AS comment, character_set_client AS charsetClient,
            collation_connection AS collationConnection
       FROM information_schema.routines WHERE routine_schema = ?`,
    [db],
  )
  const parameterRows = await run<ParameterRow>(
    `SELECT specific_name AS routine, routine_type AS type, ordinal_position AS position,
            parameter_mode AS mode, parameter_name AS name, dtd_identifier AS dataType
       FROM information_schema.parameters WHERE specific_schema = ? AND ordinal_position > 0`,
    [db],
  )
  const eventRows = await run<EventRow>(
    `SELECT event_name AS name, status AS status, definer AS definer, time_zone AS timeZone,
            sql_mode AS sqlMode, event_comment AS comment, character_set_client AS charsetClient,
            collation_connection AS collationConnection
       FROM information_schema.events WHERE event_schema = ?`,
    [db],
  )

  const columnsByTable = groupBy(columnRows, (c) => c.tableName)
  const tables: TableSchema[] = []
  const views: ViewSchema[] = []
  for (const row of tableRows) {
    const columns = (columnsByTable.get(row.name) ?? []).sort((a, b) => a.position - b.position)
    if (row.type === 'VIEW') {
      const view = viewRows.find((v) => v.name === row.name)
      if (view !== undefined) views.push(toView(view, columns, db))
    } else if (row.type === 'BASE TABLE' || row.type === 'SYSTEM VERSIONED') {
      const table = toTable(row, columns, mariadb)
      // MariaDB qualifies a sequence in a default with the database (nextval(`shop`.`s`)),
      // which would make a restored copy draw from the source's sequence.
      for (const column of table.columns) {
        if (column.default !== null) column.default = unqualified(column.default, db)
      }
      tables.push(table)
    }
  }
  const byName = new Map(tables.map((t) => [t.name, t]))
  const layouts = new Map<string, TableLayout>()
  for (const table of tables) {
    const definition = await showCreate(
      run,
      `SHOW CREATE TABLE ${quoteIdentifier(table.name)}`,
      'Create Table',
    )
    const layout = tableLayout(definition ?? '')
    layouts.set(table.name, layout)
    ;(table.extra as MysqlTableExtra).partitioning = layout.partitioning
  }
  addIndexes(byName, indexRows, layouts)
  addForeignKeys(byName, foreignKeyRows, db)
  for (const row of checkRows) {
    const table = byName.get(row.tableName)
    // MariaDB names a column's own CHECK after the column and prints it in the column's line.
    const column =
      table !== undefined &&
      layouts.get(table.name)?.tableChecks.has(row.name) === false &&
      table.columns.some((c) => c.name === row.name)
    table?.checks.push({
      name: row.name,
      definition: `CHECK (${row.clause})`,
      ...(column ? { extra: { column: true } } : {}),
    } satisfies CheckSchema)
  }
  for (const row of triggerRows) {
    // The statement as it was written (information_schema has only its body): MariaDB and
    // MySQL keep it without FOLLOWS/PRECEDES, which the creation order stands for.
    const original = await showCreate(
      run,
      `SHOW CREATE TRIGGER ${quoteIdentifier(row.name)}`,
      'SQL Original Statement',
    )
    byName.get(row.tableName)?.triggers.push(toTrigger(row, original))
  }
  for (const table of tables) {
    table.checks.sort((a, b) => compareText(a.name, b.name))
    table.triggers.sort((a, b) => compareText(a.name, b.name))
  }

  const routines: RoutineSchema[] = []
  for (const row of routineRows) {
    const kind = row.type === 'PROCEDURE' ? 'procedure' : 'function'
    const parameters = parameterRows
      .filter((p) => p.routine === row.name && p.type === row.type)
      .sort((a, b) => a.position - b.position)
      .map((p) => `${kind === 'procedure' ? `${p.mode ?? 'IN'} ` : ''}${p.name} ${p.dataType}`)
    const definition = await showCreate(
      run,
      `SHOW CREATE ${row.type} ${quoteIdentifier(row.name)}`,
      kind === 'procedure' ? 'Create Procedure' : 'Create Function',
    )
    if (definition === null) {
      throw privilegeError(
        target,
        server.user,
        `the definition of ${kind} ${quoteIdentifier(row.name)}`,
        mariadb ? 'SELECT ON mysql.proc' : 'SHOW_ROUTINE',
      )
    }
    const extra: MysqlRoutineExtra = {
      deterministic: row.isDeterministic === 'YES',
      dataAccess: row.dataAccess,
      security: row.security,
      definer: row.definer,
      sqlMode: row.sqlMode,
      comment: row.comment,
      charsetClient: row.charsetClient,
      collationConnection: row.collationConnection,
    }
    routines.push({
      schema: '',
      name: row.name,
      kind,
      arguments: parameters.join(', '),
      returns: kind === 'function' ? row.returns : null,
      language: 'SQL',
      definition,
      extra,
    })
  }

  const events: EventSchema[] = []
  for (const row of eventRows) {
    const definition = await showCreate(
      run,
      `SHOW CREATE EVENT ${quoteIdentifier(row.name)}`,
      'Create Event',
    )
    if (definition === null) {
      throw privilegeError(target, server.user, `event ${quoteIdentifier(row.name)}`, 'EVENT')
    }
    events.push({
      schema: '',
      name: row.name,
      definition,
      enabled: row.status === 'ENABLED',
      extra: {
        status: row.status,
        definer: row.definer,
        timeZone: row.timeZone,
        sqlMode: row.sqlMode,
        comment: row.comment,
        charsetClient: row.charsetClient,
        collationConnection: row.collationConnection,
      },
    })
  }

  const sequences: SequenceSchema[] = []
  for (const row of tableRows.filter((t) => t.type === 'SEQUENCE')) {
    sequences.push(await readSequence(run, row.name))
  }

  return {
    engine: 'mysql',
    schemas: [],
    tables: tables.sort(compareQualified),
    views: views.sort(compareQualified),
    routines: routines.sort((a, b) => compareText(a.kind, b.kind) || compareQualified(a, b)),
    sequences: sequences.sort(compareQualified),
    enums: [],
    domains: [],
    compositeTypes: [],
    extensions: [],
    events: events.sort(compareQualified),
  }
}

/**
 * Fails unless the account holds TRIGGER and EVENT (and SHOW VIEW when there are views) on the
 * database: information_schema hides triggers and events from an account without them, and
 * blanks view definitions, so a snapshot would silently lack them. Judged from the grants
 * information_schema lists for the user, globally and on the database; with a role active the
 * grants cannot be told apart this way, and the check is left to the server.
 */
async function checkPrivileges(
  run: <R>(sql: string, values?: unknown[]) => Promise<R[]>,
  server: ServerRow,
  db: string,
  hasViews: boolean,
  target: ConnectionTarget,
): Promise<void> {
  if (server.role !== null && server.role !== 'NONE') return
  const grantee = granteeOf(server.user)
  const rows = await run<{ privilege: string }>(
    `SELECT privilege_type AS privilege FROM information_schema.user_privileges WHERE grantee = ?
     UNION ALL
     SELECT privilege_type FROM information_schema.schema_privileges
      WHERE grantee = ? AND ? LIKE table_schema`,
    [grantee, grantee, db],
  )
  const held = new Set(rows.map((r) => r.privilege.toUpperCase()))
  const needed = ['TRIGGER', 'EVENT', ...(hasViews ? ['SHOW VIEW'] : [])]
  const missing = needed.filter((p) => !held.has(p))
  if (missing.length > 0) {
    throw privilegeError(
      target,
      server.user,
      `the ${missing.map((p) => (p === 'SHOW VIEW' ? 'view definitions' : `${p.toLowerCase()}s`)).join(' and ')} of database ${quoteIdentifier(db)}`,
      `${missing.join(', ')} ON ${quoteIdentifier(db)}.*`,
    )
  }
}

function privilegeError(
  target: ConnectionTarget,
  user: string,
  what: string,
  grant: string,
): DbsnapError {
  return new DbsnapError(
    'CONNECTION_PRIVILEGE_MISSING',
    `user ${user} may not read ${what}, which a snapshot must hold; GRANT ${grant} TO it`,
    { details: { host: target.host, port: target.port, grant } },
  )
}

/** `user@host` as current_user() returns it -> `'user'@'host'` as information_schema writes it. */
export function granteeOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@')
  const user = at === -1 ? currentUser : currentUser.slice(0, at)
  const host = at === -1 ? '%' : currentUser.slice(at + 1)
  return `'${user}'@'${host}'`
}

/** One column of a SHOW CREATE result; null when the server withholds it (privileges). */
/** `SequenceSchema.extra` on MariaDB. */
export type MysqlSequenceExtra = {
  /** SHOW CREATE SEQUENCE: options, engine and comment as the server spells them. */
  definition: string
  /**
   * `next_not_cached_value`: what NEXTVAL returns after a server restart, and so after a
   * restore, which sets it with SETVAL(…, 0).
   */
  nextValue: string
  cache: string
}

/** A MariaDB sequence: its definition and state (one row, read inside the read view). */
async function readSequence(
  run: <R>(sql: string, values?: unknown[]) => Promise<R[]>,
  name: string,
): Promise<SequenceSchema> {
  const definition = await showCreate(
    run,
    `SHOW CREATE SEQUENCE ${quoteIdentifier(name)}`,
    'Create Table',
  )
  const [state] = await run<Record<string, string | number>>(
    `SELECT next_not_cached_value AS next, minimum_value AS min, maximum_value AS max,
            start_value AS start, increment, cache_size AS cache, cycle_option AS cycle
       FROM ${quoteIdentifier(name)}`,
  )
  if (definition === null || state === undefined) {
    throw new DbsnapError(
      'INTERNAL',
      `no definition or state for sequence ${quoteIdentifier(name)}`,
    )
  }
  const extra: MysqlSequenceExtra = {
    definition,
    nextValue: String(state.next),
    cache: String(state.cache),
  }
  return {
    schema: '',
    name,
    type: 'bigint',
    start: String(state.start),
    increment: String(state.increment),
    min: String(state.min),
    max: String(state.max),
    cycle: Number(state.cycle) === 1,
    lastValue: null,
    ownedBy: null,
    extra,
  }
}

async function showCreate(
  run: <R>(sql: string, values?: unknown[]) => Promise<R[]>,
  sql: string,
  column: string,
): Promise<string | null> {
  const [row] = await run<Record<string, string | null>>(sql)
  return row?.[column] ?? null
}

function toNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value)
}

function toTable(row: TableRow, columnRows: ColumnRow[], mariadb: boolean): TableSchema {
  const extra: MysqlTableExtra = {
    engine: row.engine,
    // MariaDB 11's UCA 14 collations are listed without their charset prefix, so a table's
    // `utf8mb4_uca1400_ai_ci` finds no row in information_schema.collations.
    charset: row.charset ?? row.collation?.split('_')[0] ?? null,
    collation: row.collation,
    rowFormat: row.rowFormat,
    createOptions: row.createOptions === '' ? null : row.createOptions,
    autoIncrement: row.autoIncrement === null ? null : String(row.autoIncrement),
    systemVersioned: row.type === 'SYSTEM VERSIONED',
    transactional: TRANSACTIONAL_ENGINES.has((row.engine ?? '').toLowerCase()),
  }
  return {
    schema: '',
    name: row.name,
    kind: 'table',
    columns: columnRows.map((c) => toColumn(c, row.collation, mariadb)),
    primaryKey: null,
    uniqueKeys: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    triggers: [],
    partitionOf: null,
    partitionBy: null,
    comment: row.comment === null || row.comment === '' ? null : row.comment,
    estimatedRows: toNumber(row.rows),
    estimatedBytes: toNumber(row.dataLength),
    extra,
  }
}

function toColumn(row: ColumnRow, tableCollation: string | null, mariadb: boolean): ColumnSchema {
  const dataType = row.dataType.toLowerCase()
  const flags = row.extra ?? ''
  const generated = row.generation === null || row.generation === '' ? null : row.generation
  const extra: MysqlColumnExtra = {
    dataType,
    unsigned: /\bunsigned\b/i.test(row.columnType),
    zerofill: /\bzerofill\b/i.test(row.columnType),
    length: toNumber(row.length),
    precision: toNumber(row.numericPrecision),
    scale: toNumber(row.numericScale),
    fractionalSeconds: toNumber(row.datetimePrecision),
    charset: row.charset,
    collation: row.collation,
    autoIncrement: /auto_increment/i.test(flags),
    onUpdate: /on update (\S+)/i.exec(flags)?.[1] ?? null,
    generatedKind:
      generated === null ? null : /stored|persistent/i.test(flags) ? 'stored' : 'virtual',
    invisible: /invisible/i.test(flags),
  }
  return {
    name: row.name,
    type: row.columnType,
    encoding: mysqlValueEncoding(mysqlValueKind(dataType)),
    nullable: row.nullable === 'YES',
    default: generated === null ? defaultExpression(row.defaultValue, flags, mariadb) : null,
    generated,
    identity: extra.autoIncrement ? 'by-default' : null,
    collation: row.collation !== null && row.collation !== tableCollation ? row.collation : null,
    comment: row.comment === null || row.comment === '' ? null : row.comment,
    extra,
  }
}

/**
 * The default as DDL spells it. MariaDB already prints it so (`'abc'`, `current_timestamp()`,
 * `NULL`); MySQL 8 prints a literal's bare value and marks expressions `DEFAULT_GENERATED`.
 * An explicit `DEFAULT NULL` is reported as no default: it behaves the same.
 */
function defaultExpression(value: string | null, flags: string, mariadb: boolean): string | null {
  if (value === null || (mariadb && value === 'NULL')) return null
  if (mariadb || /DEFAULT_GENERATED/.test(flags)) return value
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}

/** What only SHOW CREATE TABLE tells of a table's keys and checks. */
interface TableLayout {
  /** Per index name: its place among the keys, and the algorithm its definition names. */
  keys: Map<string, { position: number; using: string | null }>
  /** Checks written as table constraints (`CONSTRAINT … CHECK`), not in a column's line. */
  tableChecks: Set<string>
  /** The partitioning clause, from `PARTITION BY` to the end; null for a table without one. */
  partitioning: string | null
}

/**
 * The keys, checks and partitioning of a SHOW CREATE TABLE statement, one per line as the
 * server prints them.
 * The server keeps the order keys were created in (after its own: primary, unique, others,
 * full-text) and a `USING BTREE|HASH` only when the definition named one; information_schema
 * has neither (it lists the algorithm used, which is BTREE for a HASH key on InnoDB).
 */
export function tableLayout(createTable: string): TableLayout {
  // After the table options, on lines of its own: ` PARTITION BY …` on MariaDB, MySQL 8 inside
  // `/*!50100 PARTITION BY … */`.
  const partitionAt = createTable.search(/\n\s*(?:\/\*!\d+\s+)?PARTITION BY /)
  const layout: TableLayout = {
    keys: new Map(),
    tableChecks: new Set(),
    partitioning: partitionAt < 0 ? null : createTable.slice(partitionAt).trim(),
  }
  const body = partitionAt < 0 ? createTable : createTable.slice(0, partitionAt)
  for (const line of body.split('\n')) {
    let tokens: SqlToken[]
    try {
      tokens = lexMysql(line.replace(/,$/, ''))
    } catch {
      continue // a column line whose text goes on in the next: no key or check starts there
    }
    const [first, second, third] = tokens.map((t) => t.text)
    if (first === 'CONSTRAINT' && tokens[2]?.text === 'CHECK') {
      layout.tableChecks.add(identifierText(second ?? ''))
      continue
    }
    let name: string | undefined
    if (first === 'PRIMARY' && second === 'KEY') name = 'PRIMARY'
    else if (first === 'KEY') name = second
    else if (/^(UNIQUE|FULLTEXT|SPATIAL)$/.test(first ?? '') && second === 'KEY') name = third
    if (name === undefined) continue
    let depth = 0
    let using: string | null = null
    tokens.forEach((token, i) => {
      if (token.text === '(') depth++
      else if (token.text === ')') depth--
      else if (depth === 0 && token.text === 'USING' && token.kind === 'word') {
        using = tokens[i + 1]?.text ?? null
      }
    })
    layout.keys.set(name === 'PRIMARY' ? name : identifierText(name), {
      position: layout.keys.size,
      using,
    })
  }
  return layout
}

function addIndexes(
  tables: Map<string, TableSchema>,
  rows: IndexRow[],
  layouts: Map<string, TableLayout>,
): void {
  const groups = groupBy(rows, (r) => `${r.tableName}\u0000${r.name}`)
  for (const parts of groups.values()) {
    parts.sort((a, b) => a.seq - b.seq)
    const first = parts[0]!
    const table = tables.get(first.tableName)
    if (table === undefined) continue
    const columns = parts.map((p) => p.columnName ?? `(${p.expression ?? ''})`)
    const subParts = parts.map((p) => toNumber(p.subPart))
    const descending = parts.map((p) => p.ordering === 'D')
    const method = first.indexType.toLowerCase()
    const unique = Number(first.nonUnique) === 0
    const primary = first.name === 'PRIMARY'
    // MariaDB reports a spatial index's key length as a prefix, which DDL does not take.
    const prefixed = method !== 'spatial'
    const keyParts = parts.map((p, i) => {
      const column = p.columnName === null ? columns[i]! : quoteIdentifier(p.columnName)
      const prefix = subParts[i] === null || !prefixed ? '' : `(${subParts[i]})`
      return `${column}${prefix}${descending[i] === true ? ' DESC' : ''}`
    })
    const kindWord = primary
      ? 'PRIMARY KEY'
      : unique
        ? `UNIQUE KEY ${quoteIdentifier(first.name)}`
        : method === 'fulltext' || method === 'spatial'
          ? `${method.toUpperCase()} KEY ${quoteIdentifier(first.name)}`
          : `KEY ${quoteIdentifier(first.name)}`
    const layout = layouts.get(first.tableName)?.keys.get(first.name)
    // Only an algorithm the definition named: information_schema lists BTREE for every key
    // that has no other, which spelled out would be a change.
    const using = layout?.using == null ? '' : ` USING ${layout.using}`
    const comment = first.comment === null || first.comment === '' ? null : first.comment
    const extra: MysqlIndexExtra = {
      subParts,
      descending,
      comment,
      visible: Number(first.hidden ?? 0) === 0,
      position: layout?.position ?? null,
    }
    table.indexes.push({
      name: first.name,
      unique,
      method,
      columns,
      predicate: null,
      definition: `${kindWord} (${keyParts.join(', ')})${using}`,
      constraint: unique,
      extra,
    } satisfies IndexSchema)
    if (primary || unique) {
      const key: KeyConstraintSchema = { name: first.name, columns }
      if (primary) table.primaryKey = key
      else table.uniqueKeys.push(key)
    }
  }
  for (const table of tables.values()) {
    table.indexes.sort((a, b) => compareText(a.name, b.name))
    table.uniqueKeys.sort((a, b) => compareText(a.name, b.name))
  }
}

function addForeignKeys(tables: Map<string, TableSchema>, rows: ForeignKeyRow[], db: string): void {
  const groups = groupBy(rows, (r) => `${r.tableName}\u0000${r.name}`)
  for (const parts of groups.values()) {
    parts.sort((a, b) => a.position - b.position)
    const first = parts[0]!
    const table = tables.get(first.tableName)
    if (table === undefined) continue
    const columns = parts.map((p) => p.columnName)
    const refColumns = parts.map((p) => p.refColumn)
    const refSchema = first.refSchema === db ? '' : first.refSchema
    const onUpdate = action(first.onUpdate)
    const onDelete = action(first.onDelete)
    const refName =
      refSchema === ''
        ? quoteIdentifier(first.refTable)
        : `${quoteIdentifier(refSchema)}.${quoteIdentifier(first.refTable)}`
    table.foreignKeys.push({
      name: first.name,
      columns,
      references: { schema: refSchema, name: first.refTable, columns: refColumns },
      onUpdate,
      onDelete,
      deferrable: false,
      initiallyDeferred: false,
      definition:
        `CONSTRAINT ${quoteIdentifier(first.name)} FOREIGN KEY (${columns.map(quoteIdentifier).join(', ')})` +
        ` REFERENCES ${refName} (${refColumns.map(quoteIdentifier).join(', ')})` +
        ` ON DELETE ${onDelete.toUpperCase()} ON UPDATE ${onUpdate.toUpperCase()}`,
    } satisfies ForeignKeySchema)
  }
  for (const table of tables.values()) {
    table.foreignKeys.sort((a, b) => compareText(a.name, b.name))
  }
}

function action(rule: string): ForeignKeySchema['onDelete'] {
  const normalized = rule.toLowerCase()
  switch (normalized) {
    case 'cascade':
    case 'set null':
    case 'set default':
    case 'restrict':
    case 'no action':
      return normalized
    default:
      throw new DbsnapError('INTERNAL', `unknown foreign-key rule ${JSON.stringify(rule)}`)
  }
}

function toView(row: ViewRow, columns: ColumnRow[], db: string): ViewSchema {
  return {
    schema: '',
    name: row.name,
    materialized: false,
    // The server qualifies every name with the view's own database; without it the definition
    // is the same whatever the database is called, and a restored copy diffs equal.
    definition: unqualified(row.definition ?? '', db),
    columns: columns.map((c) => ({ name: c.name, type: c.columnType })),
    indexes: [],
    extra: {
      checkOption: row.checkOption,
      updatable: row.updatable === 'YES',
      definer: row.definer,
      security: row.security,
      ...(row.algorithm === undefined ? {} : { algorithm: row.algorithm }),
      charsetClient: row.charsetClient,
      collationConnection: row.collationConnection,
    },
  }
}

/**
 * A trigger; its definition is `original` (SHOW CREATE TRIGGER's statement) without its DEFINER,
 * or, when the server gives none, one built from information_schema.
 */
function toTrigger(row: TriggerRow, original: string | null): TriggerSchema {
  return {
    name: row.name,
    definition:
      original === null
        ? `CREATE TRIGGER ${quoteIdentifier(row.name)} ${row.timing} ${row.event} ON ${quoteIdentifier(row.tableName)} FOR EACH ROW ${row.statement}`
        : withoutDefiner(original),
    enabled: true,
    extra: {
      timing: row.timing,
      event: row.event,
      actionOrder: row.actionOrder === null ? null : Number(row.actionOrder),
      definer: row.definer,
      sqlMode: row.sqlMode,
      charsetClient: row.charsetClient,
      collationConnection: row.collationConnection,
    },
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}

/** Code-unit order: the same on every machine, unlike the server's collations. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareQualified(a: QualifiedName, b: QualifiedName): number {
  return compareText(a.schema, b.schema) || compareText(a.name, b.name)
}
