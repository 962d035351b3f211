// Maps the rows of MySQL/MariaDB's catalogue queries (information_schema, SHOW CREATE) to the
// normalized schema: pure functions, apart from the queries that mysql-introspect.ts runs.

import { DbsnapError } from '../../errors.js'
import type {
  ColumnSchema,
  ForeignKeySchema,
  IndexSchema,
  KeyConstraintSchema,
  TableSchema,
  TriggerSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { compareText } from '../catalog-order.js'
import { unqualified, withoutDefiner } from './mysql-ddl.js'
import { identifierText, lexMysql, type SqlToken } from './mysql-lexer.js'
import { quoteIdentifier } from './mysql-read.js'
import { mysqlValueEncoding, mysqlValueKind } from './mysql-values.js'
import type { MysqlColumnExtra, MysqlIndexExtra, MysqlTableExtra } from './mysql-schema-extra.js'

/** Engines whose tables InnoDB's consistent snapshot (or an equivalent) covers. */
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'rocksdb', 'tokudb'])

export interface ServerRow {
  db: string | null
  version: string
  comment: string
  user: string
  role: string | null
}

export interface TableRow {
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

export interface ColumnRow {
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

export interface IndexRow {
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

export interface ForeignKeyRow {
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

export interface CheckRow {
  tableName: string
  name: string
  clause: string
}

export interface ViewRow {
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

export interface RoutineRow {
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

export interface ParameterRow {
  routine: string
  type: string
  position: number
  mode: string | null
  name: string
  dataType: string
}

export interface TriggerRow {
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

export interface EventRow {
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
export function versionOf(text: string): [number, number] {
  const [major = 0, minor = 0] = text.split(/[.-]/).map(Number)
  return [major, minor]
}

function toNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value)
}

export function toTable(row: TableRow, columnRows: ColumnRow[], mariadb: boolean): TableSchema {
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
export interface TableLayout {
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

export function addIndexes(
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

export function addForeignKeys(
  tables: Map<string, TableSchema>,
  rows: ForeignKeyRow[],
  db: string,
): void {
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

export function toView(row: ViewRow, columns: ColumnRow[], db: string): ViewSchema {
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
export function toTrigger(row: TriggerRow, original: string | null): TriggerSchema {
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

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}
