// Canonical rows back into MySQL/MariaDB: value literals, bounded multi-row INSERTs, LOAD DATA
// lines, and the whole snapshot as an SQL script for the `mysql` client (`dbsnap export`).

import type { OnConflict, RestoreObjects, SqlScript } from '../target-adapter.js'
import type { CanonicalRow, CanonicalValue } from '../../canonical/value-encoding.js'
import { DbsnapError } from '../../errors.js'
import type { TableSchema } from '../../schema/schema.js'
import {
  clientCharsetOf,
  createTableStatement,
  delimiterFor,
  dropRoutineStatement,
  eventStatement,
  eventTimeZone,
  quoteString,
  routineStatement,
  sequenceStatements,
  sourceDatabaseOf,
  sqlModeOf,
  triggerStatement,
  triggersInOrder,
  viewStatement,
  viewsInDependencyOrder,
  type KeepDefiner,
} from './mysql-ddl.js'
import type { MysqlColumnExtra } from './mysql-schema-extra.js'
import { quoteIdentifier } from './mysql-read.js'
import { mysqlValueKind, type MysqlValueKind } from './mysql-values.js'

/**
 * The sql_mode rows and tables are restored under. Not strict: values the source holds that a
 * strict mode refuses (zero dates, an ENUM's '' error value) go in as they are.
 * NO_AUTO_VALUE_ON_ZERO keeps a 0 in an AUTO_INCREMENT column instead of numbering it;
 * NO_ENGINE_SUBSTITUTION fails a table whose engine is missing instead of changing it.
 */
export const MYSQL_RESTORE_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'

/**
 * Session settings of a restore, as `SET SESSION` assignments: the same time zone and character
 * set the source read uses (mysql-values.ts), so each value's text means what it meant there,
 * and no foreign-key checks, so tables load in any order and a referenced table can be replaced.
 */
export const MYSQL_RESTORE_SETTINGS: Readonly<Record<string, string>> = {
  time_zone: "'+00:00'",
  sql_mode: `'${MYSQL_RESTORE_SQL_MODE}'`,
  character_set_client: 'utf8mb4',
  character_set_connection: 'utf8mb4',
  character_set_results: 'utf8mb4',
  foreign_key_checks: '0',
}

/** Largest INSERT statement by default: well under every server's max_allowed_packet. */
export const DEFAULT_INSERT_BYTES = 1024 * 1024

/** Turns one canonical value of a column into a SQL literal. */
type LiteralFn = (value: CanonicalValue) => string

const INTEGER = /^-?\d+$/
const DECIMAL = /^-?\d+(?:\.\d+)?$/
const HEX = /^(?:[0-9a-f]{2})*$/

function corrupt(kind: string, value: CanonicalValue): DbsnapError {
  return new DbsnapError('DATA_CORRUPT', `a MySQL ${kind} column holds ${JSON.stringify(value)}`)
}

/**
 * The literal for each value kind: the inverse of the source read (mysql-values.ts).
 * - integers and BIT values as decimal digits (a BIT column takes an integer as its bits);
 * - floats with an exponent, so the server parses a DOUBLE and not an exact DECIMAL (a FLOAT
 *   column rounds that double back to the same single, which it came from);
 * - bytes and geometries as `X'…'`: for a geometry that is the server's own value (SRID + WKB);
 * - DECIMAL as its digits; everything else as a string literal in utf8mb4, which the server
 *   converts to the column's charset (text, dates under time_zone +00:00, ENUM, SET, JSON).
 */
export function literalFor(kind: MysqlValueKind, dataType: string): LiteralFn {
  switch (kind) {
    case 'integer':
    case 'bigint':
    case 'bit':
      return (value) => {
        if (value === null) return 'NULL'
        if (typeof value === 'number' && Number.isInteger(value)) return String(value)
        if (typeof value === 'string' && INTEGER.test(value)) return value
        throw corrupt(kind, value)
      }
    case 'float':
      return (value) => {
        if (value === null) return 'NULL'
        if (typeof value === 'number' && Number.isFinite(value)) {
          const text = String(value)
          return text.includes('e') ? text : `${text}e0`
        }
        if (value === '-0') return '-0e0'
        throw corrupt(kind, value)
      }
    case 'bytes':
    case 'geometry':
      return (value) => {
        if (value === null) return 'NULL'
        if (typeof value === 'string' && HEX.test(value)) return `X'${value}'`
        throw corrupt(kind, value)
      }
    case 'text': {
      const decimal = /^(decimal|numeric)$/i.test(dataType)
      return (value) => {
        if (value === null) return 'NULL'
        if (typeof value !== 'string') throw corrupt(kind, value)
        return decimal && DECIMAL.test(value) ? value : quoteString(value)
      }
    }
  }
}

/** How a table's rows are inserted: the column list and each row's `(…)` tuple. */
export interface InsertShape {
  /** `` INSERT INTO `t` (`a`, `b`) VALUES `` */
  head: string
  /** `(1,'x')`: the values of the inserted columns of a canonical row. */
  tuple(row: CanonicalRow): string
  /** The inserted (not generated) columns. */
  columns: string[]
}

/** Generated columns are left out: the server computes them from the others. */
export function insertShape(table: TableSchema): InsertShape {
  const inserted = table.columns.flatMap((column, index) =>
    column.generated === null
      ? [
          {
            index,
            name: column.name,
            literal: literalFor(
              mysqlValueKind(dataTypeOf(column.extra, column.type)),
              dataTypeOf(column.extra, column.type),
            ),
          },
        ]
      : [],
  )
  const head = `INSERT INTO ${quoteIdentifier(table.name)} (${inserted.map((c) => quoteIdentifier(c.name)).join(', ')}) VALUES `
  return {
    head,
    columns: inserted.map((c) => c.name),
    tuple(row) {
      let out = '('
      for (let i = 0; i < inserted.length; i++) {
        const column = inserted[i]!
        if (i > 0) out += ','
        out += column.literal(row[column.index] ?? null)
      }
      return `${out})`
    },
  }
}

/**
 * `restore --only-changed`: DELETE statements for the rows with these keys (canonical key values
 * in key-column order), 1000 keys each.
 */
export function deleteStatements(table: TableSchema, keys: CanonicalValue[][]): string[] {
  const key = (table.primaryKey?.columns ?? []).map((name) => {
    const column = table.columns.find((c) => c.name === name)!
    const dataType = dataTypeOf(column.extra, column.type)
    return { name, literal: literalFor(mysqlValueKind(dataType), dataType) }
  })
  const columns = `(${key.map((c) => quoteIdentifier(c.name)).join(', ')})`
  const statements: string[] = []
  for (let at = 0; at < keys.length; at += 1000) {
    const tuples = keys
      .slice(at, at + 1000)
      .map((values) => `(${key.map((c, i) => c.literal(values[i] ?? null)).join(',')})`)
    statements.push(
      `DELETE FROM ${quoteIdentifier(table.name)} WHERE ${columns} IN (${tuples.join(',')})`,
    )
  }
  return statements
}

/** A column's `information_schema` data type: recorded in `extra`, else the type's first word. */
function dataTypeOf(extra: Record<string, unknown> | undefined, type: string): string {
  const recorded = (extra as Partial<MysqlColumnExtra> | undefined)?.dataType
  return typeof recorded === 'string' ? recorded : (/^\w+/.exec(type)?.[0] ?? 'text').toLowerCase()
}

/**
 * What an appended row that hits an existing key does, as the INSERT's tail:
 * - `fail`: nothing; the duplicate-key error ends the append.
 * - `skip`: `ON DUPLICATE KEY UPDATE k = k` on a key column, which keeps the row as it is.
 *   (INSERT IGNORE would also swallow conversion errors and other warnings.)
 * - `update`: every inserted column takes the appended row's value.
 */
export function conflictClause(table: TableSchema, onConflict: OnConflict): string {
  if (onConflict === 'fail') return ''
  const shape = insertShape(table)
  if (onConflict === 'update') {
    if (shape.columns.length === 0) return ''
    const set = shape.columns.map(
      (name) => `${quoteIdentifier(name)}=VALUES(${quoteIdentifier(name)})`,
    )
    return ` ON DUPLICATE KEY UPDATE ${set.join(', ')}`
  }
  const key = table.primaryKey?.columns[0] ?? table.uniqueKeys[0]?.columns[0] ?? shape.columns[0]
  if (key === undefined) return ''
  return ` ON DUPLICATE KEY UPDATE ${quoteIdentifier(key)}=${quoteIdentifier(key)}`
}

/** One INSERT statement and the number of rows it holds. */
export interface InsertStatement {
  sql: string
  rows: number
}

/**
 * A table's rows as multi-row INSERT statements of at most `maxBytes` characters each (a row
 * longer than that gets a statement of its own), each ending with `tail`.
 */
export async function* insertStatements(
  table: TableSchema,
  rows: AsyncIterable<CanonicalRow[]>,
  options: { maxBytes?: number; tail?: string } = {},
): AsyncGenerator<InsertStatement, void, undefined> {
  const maxBytes = options.maxBytes ?? DEFAULT_INSERT_BYTES
  const tail = options.tail ?? ''
  const shape = insertShape(table)
  let tuples: string[] = []
  let size = shape.head.length + tail.length
  for await (const batch of rows) {
    for (const row of batch) {
      const tuple = shape.tuple(row)
      if (tuples.length > 0 && size + tuple.length + 1 > maxBytes) {
        yield { sql: shape.head + tuples.join(',') + tail, rows: tuples.length }
        tuples = []
        size = shape.head.length + tail.length
      }
      tuples.push(tuple)
      size += tuple.length + 1
    }
  }
  if (tuples.length > 0) yield { sql: shape.head + tuples.join(',') + tail, rows: tuples.length }
}

/** Turns one canonical value of a column into a LOAD DATA field (`\N` for NULL). */
type FieldFn = (value: CanonicalValue) => string

const FIELD_NEEDS_ESCAPE = /[\0\t\n\r\\]/

const FIELD_ESCAPED = /[\0\t\n\r\\]/g
const FIELD_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\\': '\\\\',
}

/**
 * The LOAD DATA field for each value kind, the same text `literalFor` quotes: the server reads
 * it as that literal's value. Bytes and geometries go as hex into a variable the statement
 * unhexes, BIT values as digits the statement casts (a field is read as the bits' bytes), and
 * YEAR values with four digits.
 */
export function fieldFor(kind: MysqlValueKind, dataType: string): FieldFn {
  if (kind === 'text') {
    return (value) => {
      if (value === null) return '\\N'
      if (typeof value !== 'string') throw corrupt(kind, value)
      return FIELD_NEEDS_ESCAPE.test(value)
        ? value.replace(FIELD_ESCAPED, (c) => FIELD_ESCAPES[c]!)
        : value
    }
  }
  const literal = literalFor(kind, dataType)
  if (kind === 'bytes' || kind === 'geometry') {
    return (value) => (value === null ? '\\N' : literal(value).slice(2, -1))
  }
  // A YEAR field is read as text, where '0' means 2000: the year 0 must be '0000'.
  if (dataType.toLowerCase() === 'year') {
    return (value) => (value === null ? '\\N' : literal(value).padStart(4, '0'))
  }
  return (value) => (value === null ? '\\N' : literal(value))
}

/** How a table's rows are loaded with LOAD DATA LOCAL INFILE. */
export interface InfileShape {
  /** The LOAD DATA statement; the file name in it means nothing, the client sends the rows. */
  statement: string
  /** One row as its line, newline included. */
  line(row: CanonicalRow): string
}

/** Generated columns are left out, as in `insertShape`. */
export function infileShape(table: TableSchema): InfileShape {
  const targets: string[] = []
  const sets: string[] = []
  const fields: { index: number; field: FieldFn }[] = []
  table.columns.forEach((column, index) => {
    if (column.generated !== null) return
    const dataType = dataTypeOf(column.extra, column.type)
    const kind = mysqlValueKind(dataType)
    const name = quoteIdentifier(column.name)
    fields.push({ index, field: fieldFor(kind, dataType) })
    if (kind === 'bytes' || kind === 'geometry' || kind === 'bit') {
      const variable = `@c${index}`
      targets.push(variable)
      sets.push(
        `${name} = ${kind === 'bit' ? `CAST(${variable} AS UNSIGNED)` : `UNHEX(${variable})`}`,
      )
    } else {
      targets.push(name)
    }
  })
  const statement =
    `LOAD DATA LOCAL INFILE 'dbsnap-rows' INTO TABLE ${quoteIdentifier(table.name)}` +
    " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'" +
    ` (${targets.join(', ')})${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`
  return {
    statement,
    line(row) {
      let out = ''
      for (let i = 0; i < fields.length; i++) {
        const { index, field } = fields[i]!
        if (i > 0) out += '\t'
        out += field(row[index] ?? null)
      }
      return `${out}\n`
    },
  }
}

/** `SET SESSION sql_mode = '…'` for an object created under its own sql_mode. */
function setSqlMode(mode: string): string {
  return `SET SESSION sql_mode = ${quoteString(mode)}`
}

/** `SET SESSION character_set_client = …, collation_connection = …` for an object's charset. */
export function setClientCharset(charset: { client: string; collation: string }): string {
  return `SET SESSION character_set_client = ${quoteString(charset.client)}, collation_connection = ${quoteString(charset.collation)}`
}

/** Drops every DEFINER: the loading account owns what the script creates. */
const noDefiner: KeepDefiner = () => false

/** A statement that runs after the rows, with the session settings it needs. */
export interface PostDataStatement {
  sql: string
  /** The sql_mode the object was created under (its body is parsed under it). */
  sqlMode?: string
  /** The time zone an event's times are written in. */
  timeZone?: string
  /** The client character set and collation it was created under (its literals' ones). */
  charset?: { client: string; collation: string }
  /** A body with `;` inside: the `mysql` client needs another DELIMITER around it. */
  compound?: boolean
}

/**
 * The statements that create what comes after the rows, in order: the triggers of `tables`
 * (after the rows, so that they do not fire on restored rows), and with `whole` the routines,
 * the views (after the functions they may call, views on views after the views they read) and
 * the events. Routines and events replace ones of the same name; views are CREATE OR REPLACE.
 */
export function postDataStatements(
  objects: RestoreObjects,
  tables: TableSchema[],
  keepDefiner: KeepDefiner,
): PostDataStatement[] {
  const statements: PostDataStatement[] = []
  const charset = (object: { extra?: Record<string, unknown> }, sql: string) =>
    clientCharsetOf(object, sql) ?? undefined
  for (const table of tables) {
    for (const trigger of triggersInOrder(table)) {
      const sql = triggerStatement(trigger, keepDefiner)
      statements.push({
        sql,
        sqlMode: sqlModeOf(trigger) ?? undefined,
        charset: charset(trigger, sql),
        compound: true,
      })
    }
  }
  if (!objects.whole) return statements
  for (const routine of objects.schema.routines) {
    statements.push({ sql: dropRoutineStatement(routine) })
    const sql = routineStatement(routine, keepDefiner)
    statements.push({
      sql,
      sqlMode: sqlModeOf(routine) ?? undefined,
      charset: charset(routine, sql),
      compound: true,
    })
  }
  const database = sourceDatabaseOf(objects.schema)
  for (const view of viewsInDependencyOrder(objects.schema.views)) {
    const sql = viewStatement(view, keepDefiner, database)
    statements.push({ sql, charset: charset(view, sql) })
  }
  for (const event of objects.schema.events ?? []) {
    statements.push({ sql: `DROP EVENT IF EXISTS ${quoteIdentifier(event.name)}` })
    const sql = eventStatement(event, keepDefiner)
    statements.push({
      sql,
      sqlMode: sqlModeOf(event) ?? undefined,
      timeZone: eventTimeZone(event) ?? undefined,
      charset: charset(event, sql),
      compound: true,
    })
  }
  return statements
}

const HEADER = [
  '-- DBSnap export: load into an empty database with `mysql <database> < file`.',
  '-- DEFINER clauses are left out: the loading account owns views, routines, triggers, events.',
  'SET NAMES utf8mb4;',
  ...Object.entries(MYSQL_RESTORE_SETTINGS)
    .filter(([name]) => !name.startsWith('character_set'))
    .map(([name, value]) => `SET SESSION ${name} = ${value};`),
  'SET SESSION unique_checks = 0;',
  '',
].join('\n')

/**
 * A snapshot as a script for the `mysql` client: session settings, CREATE TABLE for every
 * table with its keys (replacing one of the same name, as mysqldump does), each table's rows as
 * multi-row INSERTs of at most 1 MiB inside one transaction, then triggers, routines, views
 * and events, each under the sql_mode it was created with.
 */
export const mysqlSql: SqlScript = {
  preData(objects) {
    // Every definition is checked before the first line is written: a tampered snapshot fails
    // the export whole, not after its rows.
    postDataStatements(objects, objects.tables, noDefiner)
    // Sequences before the tables whose defaults draw from them.
    const sequences = objects.whole
      ? objects.schema.sequences.map((sequence) =>
          sequenceStatements(sequence, true)
            .map((sql) => `${sql};\n`)
            .join(''),
        )
      : []
    const tables = objects.tables.map(
      (table) =>
        `DROP TABLE IF EXISTS ${quoteIdentifier(table.name)};\n${createTableStatement(table)};\n`,
    )
    return `${HEADER}\n${[...sequences, ...tables].join('\n')}`
  },
  async *tableData(table, rows) {
    yield `\n-- Rows of ${quoteIdentifier(table.name).replaceAll('\n', ' ')}\nSTART TRANSACTION;\n`
    for await (const statement of insertStatements(table, rows)) yield `${statement.sql};\n`
    yield 'COMMIT;\n'
  },
  postData(objects) {
    const out: string[] = ['']
    for (const statement of postDataStatements(objects, objects.tables, noDefiner)) {
      if (statement.sqlMode !== undefined) out.push(`${setSqlMode(statement.sqlMode)};`)
      if (statement.timeZone !== undefined) {
        out.push(`SET SESSION time_zone = ${quoteString(statement.timeZone)};`)
      }
      if (statement.charset !== undefined) out.push(`${setClientCharset(statement.charset)};`)
      if (statement.compound === true) {
        const delimiter = delimiterFor(statement.sql)
        out.push(`DELIMITER ${delimiter}`, `${statement.sql}${delimiter}`, 'DELIMITER ;')
      } else {
        out.push(`${statement.sql};`)
      }
      if (statement.sqlMode !== undefined) out.push(`${setSqlMode(MYSQL_RESTORE_SQL_MODE)};`)
      if (statement.timeZone !== undefined) out.push("SET SESSION time_zone = '+00:00';")
      if (statement.charset !== undefined) out.push('SET NAMES utf8mb4;')
    }
    return `${out.join('\n')}\n`
  },
}
