// Reads a MySQL/MariaDB database's schema from information_schema (and SHOW CREATE for what only
// it tells: key order and algorithms, trigger, routine and event statements), inside the read view.

import type { Connection as PromiseConnection } from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import type {
  CheckSchema,
  DatabaseSchema,
  EventSchema,
  RoutineSchema,
  SequenceSchema,
  TableSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { unqualified } from './mysql-ddl.js'
import { compareQualified, compareText } from '../catalog-order.js'
import { mysqlQueryError } from './mysql-errors.js'
import { quoteIdentifier } from './mysql-read.js'
import {
  addForeignKeys,
  addIndexes,
  groupBy,
  tableLayout,
  toTable,
  toTrigger,
  toView,
  type CheckRow,
  type ColumnRow,
  type EventRow,
  type ForeignKeyRow,
  type IndexRow,
  type ParameterRow,
  type RoutineRow,
  type ServerRow,
  type TableLayout,
  type TableRow,
  type TriggerRow,
  type ViewRow,
  versionOf,
} from './mysql-schema-map.js'
import type {
  MysqlRoutineExtra,
  MysqlSequenceExtra,
  MysqlTableExtra,
} from './mysql-schema-extra.js'

export interface IntrospectMysqlOptions {
  /** Checked between queries; an aborted introspection rejects with `ABORTED`. */
  signal?: AbortSignal
  /** The connection's target, for error messages. */
  target: ConnectionTarget
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

/** One column of a SHOW CREATE result; null when the server withholds it (privileges). */
async function showCreate(
  run: <R>(sql: string, values?: unknown[]) => Promise<R[]>,
  sql: string,
  column: string,
): Promise<string | null> {
  const [row] = await run<Record<string, string | null>>(sql)
  return row?.[column] ?? null
}
