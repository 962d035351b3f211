// PostgreSQL DDL from a snapshot's normalized schema: the statements a restore (and an SQL
// export) runs, in dependency order, as pure functions so the target adapter and the script agree.

import type { RestoreObjects } from '../target-adapter.js'
import type {
  CastSchema,
  CheckSchema,
  CollationSchema,
  ColumnSchema,
  CommentSchema,
  CompositeTypeSchema,
  DomainSchema,
  OperatorSchema,
  QualifiedName,
  RangeTypeSchema,
  RoutineSchema,
  RuleSchema,
  SequenceSchema,
  TableSchema,
  TextSearchConfigSchema,
  ViewSchema,
} from '../../schema/schema.js'
import type {
  PgColumnExtra,
  PgIndexExtra,
  PgInheritedExtra,
  PgKeyExtra,
  PgPolicy,
  PgRuleExtra,
  PgSequenceExtra,
  PgTableExtra,
  PgTriggerExtra,
  PgViewExtra,
} from './postgres-schema-extra.js'

/** One DDL statement and what it does, as a restore plan shows it. */
export interface DdlStatement {
  sql: string
  /** `create schema`, `create table`, `add foreign key`, … */
  action: string
  /** What it acts on, e.g. `public.orders`, `index orders_pkey`. */
  object: string
}

/**
 * Settings a restore session and an SQL script run under, beyond the value settings
 * (`PG_SESSION_SETTINGS`): an empty search_path because every stored definition is
 * schema-qualified against one, and no function-body checks because functions come before the
 * tables they read (as pg_dump does).
 */
export const PG_RESTORE_SETTINGS: Readonly<Record<string, string>> = {
  search_path: '',
  check_function_bodies: 'off',
  standard_conforming_strings: 'on',
}

/** `"name"`: always quoted, so no keyword or case can change its meaning. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A string literal (standard_conforming_strings is on in every restore session). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

export function qualifiedName(object: QualifiedName): string {
  return `${quoteIdent(object.schema)}.${quoteIdent(object.name)}`
}

/** `schema.name` as users read it (restore plans, messages). */
function display(object: QualifiedName): string {
  return `${object.schema}.${object.name}`
}

/** How PostgreSQL prints an identifier: bare when it can be, else double-quoted. */
function printedIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name)
}

/** A character that can continue an identifier (or close a quoted one). */
const IDENT_CHAR = /[\p{L}\p{N}_$"]/u

/** True when `text` (a type, default, check, definition) names `object` schema-qualified. */
export function mentions(text: string, object: QualifiedName): boolean {
  // A keyword is printed quoted although it would not need quoting otherwise: try each form.
  const forms = (name: string): string[] => [printedIdent(name), quoteIdent(name)]
  const qualified = forms(object.schema).flatMap((schema) =>
    forms(object.name).map((name) => `${schema}.${name}`),
  )
  for (const form of new Set(qualified)) {
    let at = text.indexOf(form)
    while (at !== -1) {
      const after = text[at + form.length] ?? ''
      const before = text[at - 1] ?? ''
      if (!IDENT_CHAR.test(after) && !IDENT_CHAR.test(before) && before !== '.') return true
      at = text.indexOf(form, at + 1)
    }
  }
  return false
}

const same = (a: QualifiedName, b: QualifiedName): boolean =>
  a.schema === b.schema && a.name === b.name

const inherited = (extra: unknown): boolean =>
  (extra as PgInheritedExtra | undefined)?.inherited === true

function tableExtra(table: TableSchema): PgTableExtra {
  const extra = table.extra as Partial<PgTableExtra> | undefined
  return {
    unlogged: extra?.unlogged ?? false,
    rowSecurity: extra?.rowSecurity ?? false,
    forceRowSecurity: extra?.forceRowSecurity ?? false,
    options: extra?.options ?? [],
    inherits: extra?.inherits ?? [],
    exclusionConstraints: extra?.exclusionConstraints ?? [],
    ...(extra?.replicaIdentity === undefined ? {} : { replicaIdentity: extra.replicaIdentity }),
    ...(extra?.policies === undefined ? {} : { policies: extra.policies }),
    ...(extra?.statistics === undefined ? {} : { statistics: extra.statistics }),
  }
}

/** What a restore of `objects` creates besides the tables themselves. */
export interface NeededObjects {
  schemas: string[]
  collations: CollationSchema[]
  enums: RestoreObjects['schema']['enums']
  /** Composite, range types and domains, each after the types it uses. */
  types: (
    | { kind: 'composite'; type: CompositeTypeSchema }
    | { kind: 'range'; type: RangeTypeSchema }
    | { kind: 'domain'; type: DomainSchema }
  )[]
  routines: RoutineSchema[]
  /** Sequences that are not an identity column's own (those come with their column). */
  sequences: SequenceSchema[]
  /** Partitioned parents of the restored partitions (they hold no rows of their own). */
  parents: TableSchema[]
  views: ViewSchema[]
}

/**
 * The objects a restore needs: everything for a whole restore; otherwise what the selected
 * tables' column types, defaults, checks, indexes and triggers name (followed transitively
 * through domains and composite types), their partitioned parents, and sequences they own or
 * call. Names are found in the definitions' text, which introspection prints schema-qualified.
 */
export function neededObjects(objects: RestoreObjects): NeededObjects {
  const { schema, whole } = objects
  const parents = schema.tables.filter(
    (t) =>
      t.kind === 'partitioned' &&
      (whole || objects.tables.some((r) => r.partitionOf !== null && same(r.partitionOf, t))),
  )
  const types = orderTypes(schema.compositeTypes, schema.rangeTypes ?? [], schema.domains)
  if (whole) {
    return {
      schemas: schema.schemas,
      collations: schema.collations ?? [],
      enums: schema.enums,
      types,
      routines: schema.routines,
      sequences: schema.sequences.filter((s) => !isIdentitySequence(s)),
      parents: orderParents(parents),
      views: orderViews(schema.views),
    }
  }
  const texts: string[] = []
  for (const table of [...parents, ...objects.tables]) texts.push(...tableTexts(table))
  const found = (list: QualifiedName[]): Set<QualifiedName> =>
    new Set(list.filter((object) => texts.some((text) => mentions(text, object))))
  // Types can use types: repeat until nothing new is named.
  const neededTypes = new Set<QualifiedName>()
  let grew = true
  while (grew) {
    grew = false
    for (const entry of types) {
      if (neededTypes.has(entry.type) || !texts.some((text) => mentions(text, entry.type))) continue
      neededTypes.add(entry.type)
      texts.push(...typeTexts(entry))
      grew = true
    }
  }
  const enums = found(schema.enums)
  const collations = found(schema.collations ?? [])
  const routines = schema.routines.filter((r) => texts.some((text) => mentions(text, r)))
  const sequences = schema.sequences.filter(
    (s) =>
      !isIdentitySequence(s) &&
      ((s.ownedBy !== null && objects.tables.some((t) => same(t, s.ownedBy!))) ||
        texts.some((text) => mentions(text, s))),
  )
  const chosen = {
    collations: (schema.collations ?? []).filter((c) => collations.has(c)),
    enums: schema.enums.filter((e) => enums.has(e)),
    types: types.filter((entry) => neededTypes.has(entry.type)),
    routines,
    sequences,
    parents: orderParents(parents),
  }
  const used = [
    ...objects.tables,
    ...chosen.parents,
    ...chosen.collations,
    ...chosen.enums,
    ...chosen.types.map((entry) => entry.type),
    ...routines,
    ...sequences,
  ]
  return {
    schemas: schema.schemas.filter((name) => used.some((object) => object.schema === name)),
    ...chosen,
    views: [],
  }
}

export function isIdentitySequence(sequence: SequenceSchema): boolean {
  return (sequence.extra as PgSequenceExtra | undefined)?.identity === true
}

function tableTexts(table: TableSchema): string[] {
  return [
    ...table.columns.flatMap((c) => [
      c.type,
      c.collation ?? '',
      c.default ?? '',
      c.generated ?? '',
    ]),
    ...table.checks.map((c) => c.definition),
    ...table.indexes.map((i) => i.definition),
    ...table.triggers.map((t) => t.definition),
    ...tableExtra(table).exclusionConstraints.map((x) => x.definition),
  ]
}

function typeTexts(entry: NeededObjects['types'][number]): string[] {
  if (entry.kind === 'range') {
    const { subtype, subtypeOpclass, collation, canonical, subtypeDiff } = entry.type
    return [subtype, subtypeOpclass ?? '', collation ?? '', canonical ?? '', subtypeDiff ?? '']
  }
  return entry.kind === 'composite'
    ? entry.type.attributes.map((a) => a.type)
    : [
        entry.type.baseType,
        entry.type.collation ?? '',
        entry.type.default ?? '',
        ...entry.type.checks.map((c) => c.definition),
      ]
}

/** Composite, range types and domains, each after those it names (cycles: original order). */
function orderTypes(
  composites: CompositeTypeSchema[],
  ranges: RangeTypeSchema[],
  domains: DomainSchema[],
): NeededObjects['types'] {
  const all: NeededObjects['types'] = [
    ...composites.map((type) => ({ kind: 'composite' as const, type })),
    ...ranges.map((type) => ({ kind: 'range' as const, type })),
    ...domains.map((type) => ({ kind: 'domain' as const, type })),
  ]
  return dependencyOrder(all, (entry) => entry.type, typeTexts)
}

function orderViews(views: ViewSchema[]): ViewSchema[] {
  return dependencyOrder(
    views,
    (view) => view,
    (view) => [view.definition],
  )
}

function orderParents(parents: TableSchema[]): TableSchema[] {
  return dependencyOrder(
    parents,
    (table) => table,
    (table) => (table.partitionOf === null ? [] : [qualifiedName(table.partitionOf)]),
  )
}

/** `items` so that each comes after the items its texts mention. */
function dependencyOrder<T>(
  items: T[],
  nameOf: (item: T) => QualifiedName,
  textsOf: (item: T) => string[],
): T[] {
  const ordered: T[] = []
  const state = new Map<T, 'visiting' | 'done'>()
  const visit = (item: T): void => {
    if (state.has(item)) return
    state.set(item, 'visiting')
    const texts = textsOf(item)
    for (const other of items) {
      if (other !== item && texts.some((text) => mentions(text, nameOf(other)))) visit(other)
    }
    state.set(item, 'done')
    ordered.push(item)
  }
  items.forEach(visit)
  return ordered
}

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

/**
 * After a table's rows: its primary key, unique, check and exclusion constraints, its other
 * indexes, its replica identity (which may name one of them), the attachment to its
 * partitioned parent (which then clones the parent's triggers and adopts the matching indexes
 * and keys), and its own triggers with their enabled state.
 * Foreign keys wait for every table (`finishStatements`).
 */
export function afterDataStatements(table: TableSchema): DdlStatement[] {
  const name = qualifiedName(table)
  const isPartition = table.partitionOf !== null
  const out: DdlStatement[] = []
  const constraint = (
    action: string,
    constraintName: string,
    definition: string,
  ): DdlStatement => ({
    sql: `ALTER TABLE ${name} ADD CONSTRAINT ${quoteIdent(constraintName)} ${definition}`,
    action,
    object: `${display(table)}.${constraintName}`,
  })
  // A partition's keys are created here too (attaching adopts them) so that its index names
  // stay those of the snapshot; an inherited check is the parent's to give.
  const keys = [...(table.primaryKey !== null ? [table.primaryKey] : []), ...table.uniqueKeys]
  for (const key of keys) {
    const extra = key.extra as PgKeyExtra | undefined
    if (extra === undefined) continue
    if (extra.inherited && !isPartition) continue
    out.push(
      constraint(
        key === table.primaryKey ? 'add primary key' : 'add unique key',
        key.name,
        extra.definition,
      ),
    )
  }
  for (const check of table.checks) {
    if (inherited(check.extra)) continue
    out.push(constraint('add check', check.name, check.definition))
  }
  for (const exclusion of tableExtra(table).exclusionConstraints) {
    if (exclusion.inherited && !isPartition) continue
    out.push(constraint('add exclusion constraint', exclusion.name, exclusion.definition))
  }
  for (const index of table.indexes) {
    if (index.constraint) continue
    const extra = index.extra as PgIndexExtra | undefined
    // An index left invalid by a failed CREATE INDEX CONCURRENTLY is not recreated.
    if (extra?.valid === false && table.kind !== 'partitioned') continue
    out.push({
      // ON ONLY makes a parent's index wait for its partitions' to be attached; with no
      // partitions yet, the plain form is the same index, valid at once.
      sql: index.definition.replace(/ ON ONLY /, ' ON '),
      action: 'create index',
      object: `${display(table)}.${index.name}`,
    })
  }
  const clustered = [table.primaryKey, ...table.uniqueKeys, ...table.indexes].find(
    (index) => (index?.extra as PgIndexExtra | undefined)?.clustered === true,
  )
  if (clustered !== undefined && clustered !== null) {
    out.push({
      sql: `ALTER TABLE ${name} CLUSTER ON ${quoteIdent(clustered.name)}`,
      action: 'set cluster index',
      object: `${display(table)}.${clustered.name}`,
    })
  }
  for (const statistics of tableExtra(table).statistics ?? []) {
    out.push({
      sql: statistics.definition,
      action: 'create statistics',
      object: display(statistics),
    })
    if (statistics.target !== undefined) {
      out.push({
        sql: `ALTER STATISTICS ${qualifiedName(statistics)} SET STATISTICS ${statistics.target}`,
        action: 'set statistics target',
        object: display(statistics),
      })
    }
  }
  const identity = tableExtra(table).replicaIdentity
  if (identity !== undefined) {
    out.push({
      sql: `ALTER TABLE ${name} REPLICA IDENTITY ${
        typeof identity === 'string'
          ? identity.toUpperCase()
          : `USING INDEX ${quoteIdent(identity.index)}`
      }`,
      action: 'set replica identity',
      object: display(table),
    })
  }
  if (table.partitionOf !== null) {
    out.push({
      sql: `ALTER TABLE ${qualifiedName(table.partitionOf)} ATTACH PARTITION ${name} ${table.partitionOf.bound}`,
      action: 'attach partition',
      object: display(table),
    })
  }
  for (const trigger of table.triggers) {
    const extra = trigger.extra as PgTriggerExtra | undefined
    if (extra?.inherited === true) continue
    out.push(...triggerStatements(table, trigger.name, trigger.definition, extra))
  }
  return out
}

/** Enabled-state keywords of `ALTER TABLE … TRIGGER` / `… RULE` for a non-default state. */
const FIRING_STATE = { disabled: 'DISABLE', replica: 'ENABLE REPLICA', always: 'ENABLE ALWAYS' }

/**
 * A table's or view's rewrite rules with their enabled state. They come after every table and
 * view, as pg_dump puts them, because a rule's actions may read or write any of them.
 */
function ruleStatements(owner: QualifiedName & { rules?: RuleSchema[] }): DdlStatement[] {
  return (owner.rules ?? []).flatMap((rule) => {
    const object = `${display(owner)}.${rule.name}`
    const out: DdlStatement[] = [
      { sql: rule.definition.trim().replace(/;$/, ''), action: 'create rule', object },
    ]
    const firing = (rule.extra as PgRuleExtra | undefined)?.firing ?? 'origin'
    if (firing !== 'origin') {
      out.push({
        sql: `ALTER TABLE ${qualifiedName(owner)} ${FIRING_STATE[firing]} RULE ${quoteIdent(rule.name)}`,
        action: 'set rule state',
        object,
      })
    }
    return out
  })
}

/**
 * A table's row-level security policies. They come after every table, as pg_dump puts them,
 * because their expressions may read other tables.
 */
function policyStatements(table: TableSchema): DdlStatement[] {
  const policies: PgPolicy[] = tableExtra(table).policies ?? []
  return policies.map((policy) => {
    const roles = policy.roles.map((role) => (role === 'public' ? 'PUBLIC' : quoteIdent(role)))
    const parts = [
      `CREATE POLICY ${quoteIdent(policy.name)} ON ${qualifiedName(table)}`,
      `AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`,
      `FOR ${policy.command.toUpperCase()}`,
      `TO ${roles.join(', ')}`,
    ]
    if (policy.using !== null) parts.push(`USING (${policy.using})`)
    if (policy.check !== null) parts.push(`WITH CHECK (${policy.check})`)
    return {
      sql: parts.join(' '),
      action: 'create policy',
      object: `${display(table)}.${policy.name}`,
    }
  })
}

/** `COMMENT ON` targets by kind: how each kind's address becomes the object's name in DDL. */
const COMMENT_TARGETS: Record<string, (names: string[], args: string[]) => string> = {
  schema: ([schema]) => `SCHEMA ${quoteIdent(schema!)}`,
  // A type's name is one part, printed as DDL spells it (`public.mood`, `"Odd"."T"[]`).
  type: ([type]) => `TYPE ${type!}`,
  'domain constraint': ([domain], [name]) => `CONSTRAINT ${quoteIdent(name!)} ON DOMAIN ${domain!}`,
  function: (names, args) => `FUNCTION ${qualifiedParts(names)}(${args.join(', ')})`,
  procedure: (names, args) => `PROCEDURE ${qualifiedParts(names)}(${args.join(', ')})`,
  aggregate: (names, args) => `AGGREGATE ${qualifiedParts(names)}(${args.join(', ') || '*'})`,
  index: (names) => `INDEX ${qualifiedParts(names)}`,
  sequence: (names) => `SEQUENCE ${qualifiedParts(names)}`,
  collation: (names) => `COLLATION ${qualifiedParts(names)}`,
  'table constraint': (names) => onTable('CONSTRAINT', names),
  trigger: (names) => onTable('TRIGGER', names),
  rule: (names) => onTable('RULE', names),
  policy: (names) => onTable('POLICY', names),
  'view column': (names) => `COLUMN ${qualifiedParts(names)}`,
  'materialized view column': (names) => `COLUMN ${qualifiedParts(names)}`,
  'composite type column': (names) => `COLUMN ${qualifiedParts(names)}`,
}

function qualifiedParts(names: string[]): string {
  return names.map(quoteIdent).join('.')
}

/** `CONSTRAINT "c" ON "s"."t"` from `[schema, table, name]`. */
function onTable(keyword: string, [schema, table, name]: string[]): string {
  return `${keyword} ${quoteIdent(name!)} ON ${quoteIdent(schema!)}.${quoteIdent(table!)}`
}

/**
 * Comments on objects that hold none of their own (`DatabaseSchema.comments`): all of them in
 * a whole restore, those on the restored tables' objects otherwise. Last, once every object is
 * there; kinds this version does not know are left out.
 */
function commentStatements(objects: RestoreObjects): DdlStatement[] {
  const onRestored = (comment: CommentSchema): boolean =>
    objects.tables.some((t) => t.schema === comment.names[0] && t.name === comment.names[1])
  return (objects.schema.comments ?? [])
    .filter((comment) => objects.whole || onRestored(comment))
    .flatMap((comment) => {
      const target = COMMENT_TARGETS[comment.kind]?.(comment.names, comment.args)
      if (target === undefined) return []
      return [
        {
          sql: `COMMENT ON ${target} IS ${quoteLiteral(comment.comment)}`,
          action: 'comment',
          object: `${comment.kind} ${comment.names.join('.')}`,
        },
      ]
    })
}

function triggerStatements(
  owner: QualifiedName,
  triggerName: string,
  definition: string,
  extra: PgTriggerExtra | undefined,
): DdlStatement[] {
  const object = `${display(owner)}.${triggerName}`
  const out: DdlStatement[] = [{ sql: definition, action: 'create trigger', object }]
  const firing = extra?.firing ?? 'origin'
  if (firing !== 'origin') {
    out.push({
      sql: `ALTER TABLE ${qualifiedName(owner)} ${FIRING_STATE[firing]} TRIGGER ${quoteIdent(triggerName)}`,
      action: 'set trigger state',
      object,
    })
  }
  return out
}

/** A foreign key of `table`, as `ALTER TABLE … ADD CONSTRAINT`. */
export function foreignKeyStatements(table: TableSchema): DdlStatement[] {
  return table.foreignKeys
    .filter((fk) => !inherited(fk.extra))
    .map((fk) => ({
      sql: `ALTER TABLE ${qualifiedName(table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`,
      action: 'add foreign key',
      object: `${display(table)}.${fk.name}`,
    }))
}

/** A view or materialized view (without its rows: `refreshStatement` loads those). */
export function viewStatements(view: ViewSchema): DdlStatement[] {
  const extra = view.extra as PgViewExtra | undefined
  const options = extra?.options ?? []
  const withOptions = options.length > 0 ? ` WITH (${options.join(', ')})` : ''
  const query = view.definition.trim().replace(/;$/, '')
  const name = qualifiedName(view)
  const out: DdlStatement[] = [
    view.materialized
      ? {
          sql: `CREATE MATERIALIZED VIEW ${name}${withOptions} AS ${query} WITH NO DATA`,
          action: 'create materialized view',
          object: display(view),
        }
      : {
          sql: `CREATE OR REPLACE VIEW ${name}${withOptions} AS ${query}`,
          action: 'create view',
          object: display(view),
        },
  ]
  for (const index of view.indexes) {
    out.push({
      sql: index.definition,
      action: 'create index',
      object: `${display(view)}.${index.name}`,
    })
  }
  if (view.comment !== null && view.comment !== undefined) {
    out.push({
      sql: `COMMENT ON ${view.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${name} IS ${quoteLiteral(view.comment)}`,
      action: 'comment',
      object: display(view),
    })
  }
  return out
}

export function refreshStatement(view: ViewSchema): DdlStatement | null {
  const extra = view.extra as PgViewExtra | undefined
  if (!view.materialized || extra?.populated === false) return null
  return {
    sql: `REFRESH MATERIALIZED VIEW ${qualifiedName(view)}`,
    action: 'refresh materialized view',
    object: display(view),
  }
}

export function viewTriggerStatements(view: ViewSchema): DdlStatement[] {
  return (view.triggers ?? []).flatMap((trigger) =>
    triggerStatements(view, trigger.name, trigger.definition, trigger.extra as PgTriggerExtra),
  )
}

/**
 * A sequence's position as of the snapshot; a sequence never called is reset so that its next
 * value is its start.
 */
export function setvalStatement(sequence: SequenceSchema): DdlStatement {
  const literal = quoteLiteral(qualifiedName(sequence))
  return {
    sql:
      sequence.lastValue === null
        ? `SELECT pg_catalog.setval(${literal}, ${sequence.start}, false)`
        : `SELECT pg_catalog.setval(${literal}, ${sequence.lastValue}, true)`,
    action: 'set sequence value',
    object: display(sequence),
  }
}

/** The sequences whose position a restore sets: all, or those the restored tables own. */
export function restoredSequences(objects: RestoreObjects): SequenceSchema[] {
  if (objects.whole) return objects.schema.sequences
  return objects.schema.sequences.filter(
    (s) => s.ownedBy !== null && objects.tables.some((t) => same(t, s.ownedBy!)),
  )
}

/**
 * Statements after every table's rows: foreign keys (of the restored tables and of the
 * partitioned parents), views with their indexes, materialized views' rows, views' triggers,
 * rules, policies, comments, sequence positions, and in a whole restore publications and event
 * triggers.
 */
export function finishStatements(objects: RestoreObjects): DdlStatement[] {
  const needed = neededObjects(objects)
  const out: DdlStatement[] = []
  for (const table of [...needed.parents, ...objects.tables])
    out.push(...foreignKeyStatements(table))
  for (const view of needed.views) out.push(...viewStatements(view))
  for (const view of needed.views) {
    const refresh = refreshStatement(view)
    if (refresh !== null) out.push(refresh)
  }
  for (const view of needed.views) out.push(...viewTriggerStatements(view))
  for (const owner of [...needed.parents, ...objects.tables, ...needed.views]) {
    out.push(...ruleStatements(owner))
  }
  for (const table of [...needed.parents, ...objects.tables]) out.push(...policyStatements(table))
  out.push(...commentStatements(objects))
  for (const sequence of restoredSequences(objects)) out.push(setvalStatement(sequence))
  if (objects.whole) out.push(...databaseWideStatements(objects.schema))
  return out
}

/**
 * Publications, then event triggers, of a whole restore: last, so that an event trigger does
 * not fire on the restore's own DDL.
 */
function databaseWideStatements(schema: RestoreObjects['schema']): DdlStatement[] {
  const out: DdlStatement[] = []
  for (const publication of schema.publications ?? []) {
    const name = quoteIdent(publication.name)
    const options = [`publish = ${quoteLiteral(publication.publish.join(', '))}`]
    if (publication.viaPartitionRoot) options.push('publish_via_partition_root = true')
    out.push({
      sql: `CREATE PUBLICATION ${name}${publication.allTables ? ' FOR ALL TABLES' : ''} WITH (${options.join(', ')})`,
      action: 'create publication',
      object: publication.name,
    })
    for (const table of publication.tables) {
      const columns = table.columns === null ? '' : ` (${table.columns.map(quoteIdent).join(', ')})`
      const where = table.where === null ? '' : ` WHERE (${table.where})`
      out.push({
        sql: `ALTER PUBLICATION ${name} ADD TABLE ONLY ${qualifiedName(table)}${columns}${where}`,
        action: 'add publication table',
        object: `${publication.name} ${display(table)}`,
      })
    }
    for (const schemaName of publication.schemas) {
      out.push({
        sql: `ALTER PUBLICATION ${name} ADD TABLES IN SCHEMA ${quoteIdent(schemaName)}`,
        action: 'add publication table',
        object: `${publication.name} ${schemaName}`,
      })
    }
  }
  for (const trigger of schema.eventTriggers ?? []) {
    const name = quoteIdent(trigger.name)
    const tags =
      trigger.tags.length === 0 ? '' : ` WHEN TAG IN (${trigger.tags.map(quoteLiteral).join(', ')})`
    out.push({
      sql: `CREATE EVENT TRIGGER ${name} ON ${quoteIdent(trigger.event)}${tags} EXECUTE FUNCTION ${trigger.function}()`,
      action: 'create event trigger',
      object: trigger.name,
    })
    if (trigger.firing !== 'origin') {
      out.push({
        sql: `ALTER EVENT TRIGGER ${name} ${FIRING_STATE[trigger.firing]}`,
        action: 'set event trigger state',
        object: trigger.name,
      })
    }
  }
  return out
}

/** Indexes (in table order) of the columns COPY writes: all but generated ones. */
export function copyColumns(table: TableSchema): number[] {
  const out: number[] = []
  table.columns.forEach((column, i) => {
    if (column.generated === null) out.push(i)
  })
  return out
}

/** `COPY table (columns) FROM stdin`, the columns as `copyColumns` gives them. */
export function copyFromStatement(table: TableSchema, relation = qualifiedName(table)): string {
  const columns = copyColumns(table).map((i) => quoteIdent(table.columns[i]!.name))
  return `COPY ${relation}${columns.length > 0 ? ` (${columns.join(', ')})` : ''} FROM stdin`
}
