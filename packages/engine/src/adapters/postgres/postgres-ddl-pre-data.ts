// PostgreSQL DDL of a restore's pre-data section (pg_dump's word): schemas, types, sequences,
// functions and the tables themselves, created before any row is loaded.

import type { RestoreObjects } from '../target-adapter.js'
import type {
  CastSchema,
  CheckSchema,
  CollationSchema,
  ColumnSchema,
  DomainSchema,
  OperatorSchema,
  RangeTypeSchema,
  SequenceSchema,
  TableSchema,
  TextSearchConfigSchema,
} from '../../schema/schema.js'
import type { PgColumnExtra, PgSequenceExtra } from './postgres-schema-extra.js'
import {
  display,
  isIdentitySequence,
  neededObjects,
  qualifiedName,
  quoteIdent,
  quoteLiteral,
  same,
  tableExtra,
  type DdlStatement,
} from './postgres-ddl.js'
import { afterDataStatements } from './postgres-ddl-post-data.js'

/**
 * Statements before any table: schemas, extensions, types, functions, free-standing sequences
 * and the partitioned parents (with their keys, indexes and triggers, so that partitions
 * attached later inherit them). Each creates one object; the target adapter keeps an object
 * that already exists.
 */
export function preDataStatements(
  objects: RestoreObjects,
  options: { parents?: boolean } = {},
): DdlStatement[] {
  const needed = neededObjects(objects)
  const out: DdlStatement[] = []
  for (const name of needed.schemas) {
    out.push({
      sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}`,
      action: 'create schema',
      object: name,
    })
  }
  for (const ext of objects.schema.extensions) {
    out.push({
      sql: `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(ext.name)} WITH SCHEMA ${quoteIdent(ext.schema)}`,
      action: 'create extension',
      object: ext.name,
    })
  }
  for (const collation of needed.collations) {
    out.push({
      sql: `CREATE COLLATION IF NOT EXISTS ${qualifiedName(collation)} (${collationOptions(collation)})`,
      action: 'create collation',
      object: display(collation),
    })
  }
  for (const type of needed.enums) {
    out.push({
      sql: `CREATE TYPE ${qualifiedName(type)} AS ENUM (${type.values.map(quoteLiteral).join(', ')})`,
      action: 'create type',
      object: display(type),
    })
  }
  for (const entry of needed.types) {
    if (entry.kind === 'range') {
      out.push({ sql: rangeSql(entry.type), action: 'create type', object: display(entry.type) })
      continue
    }
    out.push(
      ...(entry.kind === 'composite'
        ? [
            {
              sql: `CREATE TYPE ${qualifiedName(entry.type)} AS (${entry.type.attributes
                .map((a) => `${quoteIdent(a.name)} ${a.type}`)
                .join(', ')})`,
              action: 'create type',
              object: display(entry.type),
            },
          ]
        : domainStatements(entry.type)),
    )
  }
  for (const routine of needed.routines) {
    out.push({
      sql: routine.definition.trim().replace(/;$/, ''),
      action: `create ${routine.kind}`,
      object: `${display(routine)}(${routine.arguments})`,
    })
  }
  // Operators, casts and text search configurations of a whole restore, after the functions they use
  // and before the tables whose defaults, checks and indexes may use them.
  if (objects.whole) {
    for (const operator of objects.schema.operators ?? []) out.push(operatorStatement(operator))
    for (const cast of objects.schema.casts ?? []) out.push(castStatement(cast))
    for (const config of objects.schema.textSearchConfigs ?? []) {
      out.push(...textSearchStatements(config))
    }
  }
  for (const sequence of needed.sequences) out.push(sequenceStatement(sequence))
  if (options.parents !== false) {
    for (const parent of needed.parents) out.push(...parentStatements(parent, objects))
  }
  return out
}

/** A partitioned parent with its keys, indexes and triggers (it holds no rows of its own). */
export function parentStatements(parent: TableSchema, objects: RestoreObjects): DdlStatement[] {
  return [
    ...createTableStatements(parent, objects.schema.sequences),
    ...afterDataStatements(parent),
  ]
}

function operatorStatement(operator: OperatorSchema): DdlStatement {
  const options = [
    `FUNCTION = ${operator.function}`,
    ...(operator.left === null ? [] : [`LEFTARG = ${operator.left}`]),
    ...(operator.right === null ? [] : [`RIGHTARG = ${operator.right}`]),
    ...(operator.commutator === null ? [] : [`COMMUTATOR = OPERATOR(${operator.commutator})`]),
    ...(operator.negator === null ? [] : [`NEGATOR = OPERATOR(${operator.negator})`]),
    ...(operator.restrict === null ? [] : [`RESTRICT = ${operator.restrict}`]),
    ...(operator.join === null ? [] : [`JOIN = ${operator.join}`]),
    ...(operator.hashes ? ['HASHES'] : []),
    ...(operator.merges ? ['MERGES'] : []),
  ]
  return {
    sql: `CREATE OPERATOR ${quoteIdent(operator.schema)}.${operator.name} (${options.join(', ')})`,
    action: 'create operator',
    object: `${display(operator)}(${operator.left ?? 'NONE'}, ${operator.right ?? 'NONE'})`,
  }
}

function castStatement(cast: CastSchema): DdlStatement {
  const method =
    cast.method === 'function'
      ? `WITH FUNCTION ${cast.function ?? ''}`
      : cast.method === 'inout'
        ? 'WITH INOUT'
        : 'WITHOUT FUNCTION'
  const context = { explicit: '', assignment: ' AS ASSIGNMENT', implicit: ' AS IMPLICIT' }[
    cast.context
  ]
  return {
    sql: `CREATE CAST (${cast.source} AS ${cast.target}) ${method}${context}`,
    action: 'create cast',
    object: `${cast.source} AS ${cast.target}`,
  }
}

function textSearchStatements(config: TextSearchConfigSchema): DdlStatement[] {
  const name = qualifiedName(config)
  return [
    {
      sql: `CREATE TEXT SEARCH CONFIGURATION ${name} (PARSER = ${config.parser})`,
      action: 'create text search configuration',
      object: display(config),
    },
    ...config.mappings.map((mapping) => ({
      sql: `ALTER TEXT SEARCH CONFIGURATION ${name} ADD MAPPING FOR ${quoteIdent(mapping.token)} WITH ${mapping.dictionaries.join(', ')}`,
      action: 'add text search mapping',
      object: `${display(config)} ${mapping.token}`,
    })),
  ]
}

function rangeSql(range: RangeTypeSchema): string {
  const options = [
    `subtype = ${range.subtype}`,
    ...(range.subtypeOpclass === null ? [] : [`subtype_opclass = ${range.subtypeOpclass}`]),
    ...(range.collation === null ? [] : [`collation = ${range.collation}`]),
    ...(range.canonical === null ? [] : [`canonical = ${range.canonical}`]),
    ...(range.subtypeDiff === null ? [] : [`subtype_diff = ${range.subtypeDiff}`]),
    ...(range.multirange === null ? [] : [`multirange_type_name = ${range.multirange}`]),
  ]
  return `CREATE TYPE ${qualifiedName(range)} AS RANGE (${options.join(', ')})`
}

function collationOptions(collation: CollationSchema): string {
  const options =
    collation.provider === 'icu'
      ? [`provider = icu`, `locale = ${quoteLiteral(collation.locale ?? '')}`]
      : [
          `provider = libc`,
          `lc_collate = ${quoteLiteral(collation.lcCollate ?? '')}`,
          `lc_ctype = ${quoteLiteral(collation.lcCtype ?? '')}`,
        ]
  if (!collation.deterministic) options.push('deterministic = false')
  return options.join(', ')
}

/**
 * A domain with its checks. A check added `NOT VALID` (not checked against existing values)
 * cannot be declared so in CREATE DOMAIN: it is added after, as it was made.
 */
function domainStatements(domain: DomainSchema): DdlStatement[] {
  const name = qualifiedName(domain)
  const parts = [`CREATE DOMAIN ${name} AS ${domain.baseType}`]
  if (domain.collation !== null) parts.push(`COLLATE ${domain.collation}`)
  if (domain.default !== null) parts.push(`DEFAULT ${domain.default}`)
  if (!domain.nullable) parts.push('NOT NULL')
  const notValid = (check: CheckSchema): boolean => check.definition.endsWith(' NOT VALID')
  for (const check of domain.checks.filter((c) => !notValid(c)))
    parts.push(`CONSTRAINT ${quoteIdent(check.name)} ${check.definition}`)
  return [
    { sql: parts.join(' '), action: 'create domain', object: display(domain) },
    ...domain.checks.filter(notValid).map((check) => ({
      sql: `ALTER DOMAIN ${name} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.definition}`,
      action: 'add domain check',
      object: `${display(domain)}.${check.name}`,
    })),
  ]
}

function sequenceOptions(sequence: SequenceSchema): string {
  return [
    `START WITH ${sequence.start}`,
    `INCREMENT BY ${sequence.increment}`,
    `MINVALUE ${sequence.min}`,
    `MAXVALUE ${sequence.max}`,
    sequence.cycle ? 'CYCLE' : 'NO CYCLE',
    ...((sequence.extra as PgSequenceExtra | undefined)?.cache === undefined
      ? []
      : [`CACHE ${(sequence.extra as PgSequenceExtra).cache}`]),
  ].join(' ')
}

function sequenceStatement(sequence: SequenceSchema): DdlStatement {
  return {
    sql: `CREATE SEQUENCE IF NOT EXISTS ${qualifiedName(sequence)} AS ${sequence.type} ${sequenceOptions(sequence)}`,
    action: 'create sequence',
    object: display(sequence),
  }
}

/** The identity sequence of a column, found by its owner. */
function identitySequence(
  table: TableSchema,
  column: string,
  sequences: SequenceSchema[],
): SequenceSchema | undefined {
  return sequences.find(
    (s) =>
      isIdentitySequence(s) &&
      s.ownedBy !== null &&
      same(s.ownedBy, table) &&
      s.ownedBy.column === column,
  )
}

/**
 * Creates a table with its columns (types, collations, defaults, NOT NULL, generated and
 * identity columns), without keys, indexes or triggers, which come after its rows. A partition
 * is created on its own and attached to its parent after its rows and indexes
 * (`afterDataStatements`), as pg_dump does; the sequences its columns own come first.
 */
export function createTableStatements(
  table: TableSchema,
  sequences: SequenceSchema[],
): DdlStatement[] {
  const extra = tableExtra(table)
  const name = qualifiedName(table)
  const owned = sequences.filter(
    (s) => !isIdentitySequence(s) && s.ownedBy !== null && same(s.ownedBy, table),
  )
  const out: DdlStatement[] = owned.map(sequenceStatement)
  // A column only inherited comes from the parent (with its type, collation, NOT NULL and
  // default); declaring it too would make it the table's own as well.
  const inheritedOnly = (column: ColumnSchema): boolean =>
    (column.extra as PgColumnExtra | undefined)?.inherited === true
  const columns = table.columns
    .filter((c) => !inheritedOnly(c))
    .map((column) => {
      const parts = [quoteIdent(column.name), column.type]
      if (column.collation !== null) parts.push(`COLLATE ${column.collation}`)
      if (column.generated !== null) parts.push(`GENERATED ALWAYS AS (${column.generated}) STORED`)
      if (column.identity !== null) {
        const sequence = identitySequence(table, column.name, sequences)
        const options =
          sequence === undefined
            ? ''
            : ` (SEQUENCE NAME ${qualifiedName(sequence)} ${sequenceOptions(sequence)})`
        parts.push(
          `GENERATED ${column.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${options}`,
        )
      }
      if (column.default !== null) parts.push(`DEFAULT ${column.default}`)
      if (!column.nullable) parts.push('NOT NULL')
      return parts.join(' ')
    })
  let sql = `CREATE ${extra.unlogged ? 'UNLOGGED ' : ''}TABLE ${name} (${columns.join(', ')})`
  if (extra.inherits.length > 0)
    sql += ` INHERITS (${extra.inherits.map(qualifiedName).join(', ')})`
  if (table.partitionBy !== null) sql += ` PARTITION BY ${table.partitionBy}`
  if (extra.options.length > 0) sql += ` WITH (${extra.options.join(', ')})`
  out.push({ sql, action: 'create table', object: display(table) })
  for (const column of table.columns) {
    const extra = column.extra as PgColumnExtra | undefined
    const alter = `ALTER TABLE ONLY ${name} ALTER COLUMN ${quoteIdent(column.name)}`
    const object = `${display(table)}.${column.name}`
    if (extra?.statistics !== undefined) {
      out.push({
        sql: `${alter} SET STATISTICS ${extra.statistics}`,
        action: 'set column statistics',
        object,
      })
    }
    if (extra?.storage !== undefined) {
      out.push({
        sql: `${alter} SET STORAGE ${extra.storage.toUpperCase()}`,
        action: 'set column storage',
        object,
      })
    }
    if (extra?.options !== undefined) {
      out.push({
        sql: `${alter} SET (${extra.options.join(', ')})`,
        action: 'set column options',
        object,
      })
    }
  }
  for (const column of table.columns.filter(inheritedOnly)) {
    // The parent's default is copied when the table is created; the table's own may differ.
    if (column.default === null) continue
    out.push({
      sql: `ALTER TABLE ONLY ${name} ALTER COLUMN ${quoteIdent(column.name)} SET DEFAULT ${column.default}`,
      action: 'set column default',
      object: `${display(table)}.${column.name}`,
    })
  }
  for (const sequence of owned) {
    const owner = sequence.ownedBy!
    out.push({
      sql: `ALTER SEQUENCE ${qualifiedName(sequence)} OWNED BY ${name}.${quoteIdent(owner.column)}`,
      action: 'set sequence owner',
      object: display(sequence),
    })
  }
  if (table.comment !== null) {
    out.push({
      sql: `COMMENT ON TABLE ${name} IS ${quoteLiteral(table.comment)}`,
      action: 'comment',
      object: display(table),
    })
  }
  for (const column of table.columns) {
    if (column.comment === null || column.comment === undefined) continue
    out.push({
      sql: `COMMENT ON COLUMN ${name}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`,
      action: 'comment',
      object: `${display(table)}.${column.name}`,
    })
  }
  if (extra.rowSecurity) {
    out.push({
      sql: `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`,
      action: 'enable row security',
      object: display(table),
    })
  }
  if (extra.forceRowSecurity) {
    out.push({
      sql: `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`,
      action: 'force row security',
      object: display(table),
    })
  }
  return out
}
