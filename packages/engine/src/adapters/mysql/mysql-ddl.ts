// A snapshot's MySQL/MariaDB schema as DDL statements: pure functions shared by the restore
// target (mysql-target.ts) and the SQL export (mysql-sql.ts), so both create the same objects.

import type {
  CheckSchema,
  ColumnSchema,
  DatabaseSchema,
  IndexSchema,
  RoutineSchema,
  SequenceSchema,
  TableSchema,
  TriggerSchema,
  ViewSchema,
  EventSchema,
} from '../../schema/schema.js'
import type {
  MysqlColumnExtra,
  MysqlIndexExtra,
  MysqlRoutineExtra,
  MysqlSequenceExtra,
  MysqlTableExtra,
} from './mysql-schema-extra.js'
import { DbsnapError } from '../../errors.js'
import { checkStatement, type StatementKind } from './mysql-lexer.js'
import { quoteIdentifier } from './mysql-read.js'

/**
 * Decides whether an object keeps the DEFINER the snapshot recorded (`user@host`). When it
 * does not, the DEFINER clause is left out and the server makes the restoring account the
 * definer (CURRENT_USER), which is what loading works with on any server.
 */
export type KeepDefiner = (definer: string) => boolean

/**
 * `text` as a single-quoted SQL string literal (any sql_mode but NO_BACKSLASH_ESCAPES). Quotes,
 * backslashes, and the characters a text file or terminal could mangle (NUL, CR, LF, Ctrl-Z)
 * are escaped; a double quote needs none inside single quotes, which keeps JSON cheap.
 */
export function quoteString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `'${text}'`
  return `'${text.replace(ESCAPED, (c) => ESCAPES[c]!)}'`
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\0\n\r\x1a'\\]/
// eslint-disable-next-line no-control-regex
const ESCAPED = /[\0\n\r\x1a'\\]/g
const ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  "'": "\\'",
  '\\': '\\\\',
}

/** `user@host` as information_schema spells a definer -> `` `user`@`host` `` for DDL. */
export function definerClause(definer: string): string {
  const at = definer.lastIndexOf('@')
  if (at < 0) return quoteIdentifier(definer)
  return `${quoteIdentifier(definer.slice(0, at))}@${quoteIdentifier(definer.slice(at + 1))}`
}

const DEFINER_PREFIX =
  /^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?)DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^'\\]|''|\\.)*'|[^@\s]+)@(?:`(?:[^`]|``)*`|'(?:[^'\\]|''|\\.)*'|[^\s]+)\s+/i

/** A `CREATE DEFINER=… ROUTINE|EVENT|TRIGGER` definition without its DEFINER clause. */
export function withoutDefiner(definition: string): string {
  return definition.replace(DEFINER_PREFIX, '$1')
}

/**
 * One column as CREATE TABLE spells it, with `check`: the column's own CHECK (MariaDB), which
 * the server prints in the column's line and names after the column.
 */
export function columnDefinition(column: ColumnSchema, check?: CheckSchema): string {
  const extra = (column.extra ?? {}) as Partial<MysqlColumnExtra>
  const parts = [quoteIdentifier(column.name), column.type]
  // Always spelled out: equal to the table's default it changes nothing, and it keeps a
  // column's charset when the table's default differs on the target.
  if (extra.charset != null && extra.collation != null) {
    parts.push(`CHARACTER SET ${extra.charset} COLLATE ${extra.collation}`)
  } else if (column.collation !== null) {
    parts.push(`COLLATE ${column.collation}`)
  }
  if (column.generated !== null) {
    parts.push(
      `GENERATED ALWAYS AS (${column.generated}) ${extra.generatedKind === 'stored' ? 'STORED' : 'VIRTUAL'}`,
    )
    // MariaDB refuses NULL / NOT NULL on generated columns and reports them nullable.
    if (!column.nullable) parts.push('NOT NULL')
  } else {
    parts.push(column.nullable ? 'NULL' : 'NOT NULL')
    if (column.default !== null) parts.push(`DEFAULT ${defaultExpression(column.default)}`)
    if (extra.onUpdate != null) parts.push(`ON UPDATE ${extra.onUpdate}`)
    if (extra.autoIncrement === true) parts.push('AUTO_INCREMENT')
  }
  if (extra.invisible === true) parts.push('INVISIBLE')
  if (column.comment != null) parts.push(`COMMENT ${quoteString(column.comment)}`)
  if (check !== undefined) parts.push(check.definition)
  return parts.join(' ')
}

/** Whether a check is a column's own (MariaDB `c INT CHECK (c > 0)`), named after the column. */
function isColumnCheck(check: CheckSchema): boolean {
  return (check.extra as { column?: boolean } | undefined)?.column === true
}

/** Literals and the CURRENT_TIMESTAMP family: what a DEFAULT takes without parentheses. */
const PLAIN_DEFAULT =
  /^(?:'(?:[^'\\]|''|\\.)*'|[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?|[bx]'[0-9a-f]*'|0x[0-9a-f]+|null|true|false|(?:current_timestamp|now|localtime|localtimestamp)(?:\(\d*\))?)$/i

/**
 * A default as DEFAULT takes it. MariaDB prints expression defaults bare (`concat('a','b')`)
 * and MySQL 8 too (its `DEFAULT_GENERATED`), but MySQL only accepts them in parentheses;
 * MariaDB takes both and prints them bare again.
 */
export function defaultExpression(value: string): string {
  return PLAIN_DEFAULT.test(value) ? value : `(${value})`
}

/**
 * An index inside CREATE TABLE: the definition the snapshot recorded, with its comment and
 * visibility. A hidden index is written for both servers in version comments: MariaDB skips
 * `/*!80000 … *\/` (it reads 8.x versions as MySQL-only) and MySQL skips `/*M! … *\/`.
 */
export function indexDefinition(index: IndexSchema): string {
  const extra = (index.extra ?? {}) as Partial<MysqlIndexExtra>
  let sql = index.definition
  if (extra.comment != null) sql += ` COMMENT ${quoteString(extra.comment)}`
  if (extra.visible === false) sql += ' /*!80000 INVISIBLE */ /*M!100600 IGNORED */'
  return sql
}

/**
 * The table options of CREATE TABLE (`ENGINE=InnoDB DEFAULT CHARSET=… COLLATE=…`); with
 * `temporary`, without the options a temporary table cannot have (ROW_FORMAT=COMPRESSED,
 * KEY_BLOCK_SIZE, system versioning).
 */
export function tableOptions(table: TableSchema, temporary = false): string {
  const extra = (table.extra ?? {}) as Partial<MysqlTableExtra>
  const options: string[] = []
  if (extra.engine != null) options.push(`ENGINE=${extra.engine}`)
  if (extra.charset != null) options.push(`DEFAULT CHARSET=${extra.charset}`)
  if (extra.collation != null) options.push(`COLLATE=${extra.collation}`)
  // The next value, so that rows inserted after a restore get the ids they would have got.
  if (extra.autoIncrement != null && /^\d+$/.test(extra.autoIncrement)) {
    options.push(`AUTO_INCREMENT=${extra.autoIncrement}`)
  }
  // Options given explicitly when the table was created, as the server lists them
  // (`row_format=DYNAMIC`, `stats_persistent=0`, `` `page_compressed`='on' ``). Only they are
  // repeated: an implied row format spelled out would show up as an explicit option.
  for (const option of (extra.createOptions ?? '').split(/\s+/)) {
    if (!/^[`\w]+=\S+$/.test(option)) continue
    if (temporary && /^(row_format=compressed|key_block_size=)/i.test(option)) continue
    options.push(option)
  }
  if (table.comment !== null) options.push(`COMMENT=${quoteString(table.comment)}`)
  // MariaDB: the hidden row_start/row_end columns come with it (a temporary table has none).
  if (extra.systemVersioned === true && !temporary) options.push('WITH SYSTEM VERSIONING')
  return options.join(' ')
}

/**
 * CREATE TABLE with columns, keys, indexes, checks, foreign keys and partitions. Run it with
 * foreign_key_checks = 0: a foreign key may then name a table not created yet, and rows are
 * not checked against it while they load. (Adding the keys after the rows instead would need
 * ALTER TABLE … ALGORITHM=COPY, a rebuild: MariaDB's in-place ADD FOREIGN KEY with checks off
 * records ON UPDATE RESTRICT as NO ACTION.)
 */
export function createTableStatement(table: TableSchema): string {
  const columnChecks = new Map(
    table.checks.filter(isColumnCheck).map((check) => [check.name, check]),
  )
  const lines = [
    ...table.columns.map((column) => columnDefinition(column, columnChecks.get(column.name))),
    ...inServerOrder(table.indexes).map(indexDefinition),
    ...table.checks
      .filter((check) => !isColumnCheck(check))
      .map((check) => `CONSTRAINT ${quoteIdentifier(check.name)} ${check.definition}`),
    ...table.foreignKeys.map((fk) => fk.definition),
  ]
  const partitioning = (table.extra as Partial<MysqlTableExtra> | undefined)?.partitioning
  return checked(
    `CREATE TABLE ${quoteIdentifier(table.name)} (\n  ${lines.join(',\n  ')}\n) ${tableOptions(table)}` +
      (partitioning == null ? '' : `\n${partitioning}`),
    'TABLE',
    table.name,
  )
}

/**
 * `sql` once `checkStatement` has found it one CREATE statement of `kind` for `name`: every
 * statement built from a snapshot goes through here before it runs or goes into an export.
 */
function checked(
  sql: string,
  kind: StatementKind,
  name: string,
  sqlMode: string | null = null,
): string {
  checkStatement(sql, kind, name, {
    object: `${kind.toLowerCase()} ${quoteIdentifier(name)}`,
    sqlMode,
  })
  return sql
}

/**
 * The table's columns, keys and options as a TEMPORARY table named `name`: what a server may
 * refuse (a type, collation or engine it lacks), tried before the table it replaces is dropped.
 * Without checks and foreign keys, whose names are unique per database on MySQL 8, and without
 * FULLTEXT and SPATIAL indexes, the compressed row format and partitions, which temporary
 * tables cannot have.
 */
export function scratchTableStatement(table: TableSchema, name: string): string {
  const indexes = inServerOrder(table.indexes).filter(
    (i) => !/^(fulltext|spatial)$/i.test(i.method),
  )
  const lines = [
    ...table.columns.map((column) => columnDefinition(column)),
    ...indexes.map(indexDefinition),
  ]
  return checked(
    `CREATE TEMPORARY TABLE ${quoteIdentifier(name)} (\n  ${lines.join(',\n  ')}\n) ${tableOptions(table, true)}`,
    'TABLE',
    name,
  )
}

/**
 * Indexes in the order the source server listed them, which it keeps for the order they are
 * created in (a snapshot without positions: the primary key first, then by name).
 */
function inServerOrder(indexes: IndexSchema[]): IndexSchema[] {
  const position = (i: IndexSchema): number | null | undefined =>
    (i.extra as Partial<MysqlIndexExtra> | undefined)?.position
  if (indexes.every((i) => typeof position(i) === 'number')) {
    return [...indexes].sort((a, b) => position(a)! - position(b)!)
  }
  return [
    ...indexes.filter((i) => i.name === 'PRIMARY'),
    ...indexes.filter((i) => i.name !== 'PRIMARY'),
  ]
}

/**
 * A MariaDB sequence as the statements that recreate it: DROP (`replace`), CREATE SEQUENCE as
 * the server showed it, and SETVAL to the value NEXTVAL gave next (`DO`: no result to print).
 */
export function sequenceStatements(sequence: SequenceSchema, replace: boolean): string[] {
  const extra = (sequence.extra ?? {}) as Partial<MysqlSequenceExtra>
  const name = quoteIdentifier(sequence.name)
  if (typeof extra.definition !== 'string' || !/^-?\d+$/.test(extra.nextValue ?? '')) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `the snapshot's sequence ${name} has no definition or next value`,
    )
  }
  return [
    ...(replace ? [`DROP SEQUENCE IF EXISTS ${name}`] : []),
    checked(extra.definition, 'SEQUENCE', sequence.name),
    `DO SETVAL(${name}, ${extra.nextValue}, 0)`,
  ]
}

/** A trigger's CREATE TRIGGER, with or without its definer. */
export function triggerStatement(trigger: TriggerSchema, keepDefiner: KeepDefiner): string {
  const definer = (trigger.extra as { definer?: string } | undefined)?.definer
  const sql =
    definer === undefined || !keepDefiner(definer)
      ? trigger.definition
      : trigger.definition.replace(
          /^CREATE\s+TRIGGER\b/i,
          `CREATE DEFINER=${definerClause(definer)} TRIGGER`,
        )
  return checked(sql, 'TRIGGER', trigger.name, sqlModeOf(trigger))
}

/** A table's triggers in the order they fire (the order they must be created in). */
export function triggersInOrder(table: TableSchema): TriggerSchema[] {
  const order = (t: TriggerSchema): number =>
    Number((t.extra as { actionOrder?: number | null } | undefined)?.actionOrder ?? 0)
  return [...table.triggers].sort((a, b) => order(a) - order(b))
}

/**
 * The `character_set_client` and `collation_connection` an object (view, trigger, routine, event) was
 * created under, to create `sql` under again; null when not recorded, or when `sql` is not
 * ASCII: the statement is sent in utf8mb4, which another client character set would misread.
 */
export function clientCharsetOf(
  object: { extra?: Record<string, unknown> },
  sql: string,
): { client: string; collation: string } | null {
  const client = object.extra?.charsetClient
  const collation = object.extra?.collationConnection
  if (typeof client !== 'string' || typeof collation !== 'string') return null
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(sql) ? { client, collation } : null
}

/** The sql_mode an object was created under, recorded by the snapshot, or null. */
export function sqlModeOf(object: { extra?: Record<string, unknown> }): string | null {
  const mode = object.extra?.sqlMode
  return typeof mode === 'string' ? mode : null
}

/** A routine's CREATE FUNCTION / PROCEDURE, with or without its definer. */
export function routineStatement(routine: RoutineSchema, keepDefiner: KeepDefiner): string {
  const definer = (routine.extra as Partial<MysqlRoutineExtra> | undefined)?.definer
  const sql =
    definer !== undefined && keepDefiner(definer)
      ? routine.definition
      : withoutDefiner(routine.definition)
  return checked(
    sql,
    routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION',
    routine.name,
    sqlModeOf(routine),
  )
}

/** `DROP FUNCTION|PROCEDURE IF EXISTS …` for a routine. */
export function dropRoutineStatement(routine: RoutineSchema): string {
  return `DROP ${routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} IF EXISTS ${quoteIdentifier(routine.name)}`
}

/** An event's CREATE EVENT, with or without its definer. */
export function eventStatement(event: EventSchema, keepDefiner: KeepDefiner): string {
  const definer = (event.extra as { definer?: string } | undefined)?.definer
  const sql =
    definer !== undefined && keepDefiner(definer)
      ? event.definition
      : withoutDefiner(event.definition)
  return checked(sql, 'EVENT', event.name, sqlModeOf(event))
}

/** The time zone an event's times are written in, or null. */
export function eventTimeZone(event: EventSchema): string | null {
  const zone = (event.extra as { timeZone?: string } | undefined)?.timeZone
  return typeof zone === 'string' && zone !== '' ? zone : null
}

/**
 * CREATE OR REPLACE VIEW. `sourceDatabase` is the database the snapshot was taken of: the
 * server qualifies every name in a stored view with it (`` `shop`.`orders` ``), which would
 * make the restored view read the source database, so those qualifiers are removed.
 */
export function viewStatement(
  view: ViewSchema,
  keepDefiner: KeepDefiner,
  sourceDatabase: string | null,
): string {
  const extra = (view.extra ?? {}) as {
    checkOption?: string
    definer?: string
    security?: string
    algorithm?: string
  }
  const parts = ['CREATE OR REPLACE']
  if (extra.algorithm != null) parts.push(`ALGORITHM=${extra.algorithm}`)
  if (extra.definer != null && keepDefiner(extra.definer)) {
    parts.push(`DEFINER=${definerClause(extra.definer)}`)
  }
  if (extra.security != null) parts.push(`SQL SECURITY ${extra.security}`)
  const body =
    sourceDatabase === null ? view.definition : unqualified(view.definition, sourceDatabase)
  parts.push(`VIEW ${quoteIdentifier(view.name)} AS ${body}`)
  if (extra.checkOption != null && /^(CASCADED|LOCAL)$/i.test(extra.checkOption)) {
    parts.push(`WITH ${extra.checkOption.toUpperCase()} CHECK OPTION`)
  }
  return checked(parts.join(' '), 'VIEW', view.name)
}

/**
 * `sql` with every `` `database`. `` qualifier removed, outside string literals and comments:
 * a view's body as the server stores it names the view's own database everywhere.
 *
 * @example unqualified("select `shop`.`t`.`a` AS `a` from `shop`.`t`", 'shop') // "select `t`.`a` AS `a` from `t`"
 */
export function unqualified(sql: string, database: string): string {
  const qualifier = quoteIdentifier(database)
  let out = ''
  let at = 0
  while (at < sql.length) {
    const c = sql[at]!
    if (c === "'" || c === '"') {
      const end = stringEnd(sql, at)
      out += sql.slice(at, end)
      at = end
    } else if (c === '`') {
      const end = identifierEnd(sql, at)
      const token = sql.slice(at, end)
      if (token === qualifier && sql[end] === '.') {
        at = end + 1
      } else {
        out += token
        at = end
      }
    } else {
      out += c
      at++
    }
  }
  return out
}

function stringEnd(sql: string, start: number): number {
  const quote = sql[start]
  let at = start + 1
  while (at < sql.length) {
    const c = sql[at]
    if (c === '\\') at += 2
    else if (c === quote && sql[at + 1] === quote) at += 2
    else if (c === quote) return at + 1
    else at++
  }
  return sql.length
}

function identifierEnd(sql: string, start: number): number {
  let at = start + 1
  while (at < sql.length) {
    if (sql[at] === '`' && sql[at + 1] === '`') at += 2
    else if (sql[at] === '`') return at + 1
    else at++
  }
  return sql.length
}

/**
 * The database a snapshot was taken of, as its views name it (`` `shop`.`orders` ``): the
 * qualifier most often put before one of the snapshot's own tables or views. Null when no
 * view qualifies names (MySQL prints them so too, but an older snapshot may hold none).
 */
export function sourceDatabaseOf(schema: DatabaseSchema): string | null {
  const own = new Set([...schema.tables, ...schema.views].map((t) => t.name))
  const counts = new Map<string, number>()
  const pattern = /`((?:[^`]|``)+)`\.`((?:[^`]|``)+)`/g
  for (const view of schema.views) {
    for (const match of view.definition.matchAll(pattern)) {
      const [db, name] = [match[1]!.replaceAll('``', '`'), match[2]!.replaceAll('``', '`')]
      if (own.has(name)) counts.set(db, (counts.get(db) ?? 0) + 1)
    }
  }
  let best: string | null = null
  for (const [db, count] of counts) if (best === null || count > counts.get(best)!) best = db
  return best
}

/**
 * Views ordered so that a view comes after the views it selects from (views on views), by the
 * view names its definition mentions as identifiers; name order otherwise, and for cycles.
 */
export function viewsInDependencyOrder(views: ViewSchema[]): ViewSchema[] {
  const byName = new Map(views.map((v) => [v.name, v]))
  const ordered: ViewSchema[] = []
  const seen = new Set<string>()
  const visit = (view: ViewSchema): void => {
    if (seen.has(view.name)) return
    seen.add(view.name)
    for (const match of view.definition.matchAll(/`((?:[^`]|``)+)`/g)) {
      const other = byName.get(match[1]!.replaceAll('``', '`'))
      if (other !== undefined && other !== view) visit(other)
    }
    ordered.push(view)
  }
  ;[...views].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).forEach(visit)
  return ordered
}

/** A delimiter for the `mysql` client that does not occur in `body`. */
export function delimiterFor(body: string): string {
  for (const candidate of [';;', '$$', '//', '$$$', '@@@']) {
    if (!body.includes(candidate)) return candidate
  }
  let n = 1
  while (body.includes(`;;${n};;`)) n++
  return `;;${n};;`
}
