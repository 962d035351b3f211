// Maps the rows of PostgreSQL's catalogue queries (postgres-catalog.ts) to the normalized
// schema: the rows' shapes and pure functions, apart from the queries that introspection runs.

import type {
  CheckSchema,
  CollationSchema,
  ColumnSchema,
  DomainSchema,
  ForeignKeySchema,
  IndexSchema,
  KeyConstraintSchema,
  PublicationSchema,
  QualifiedName,
  RoutineSchema,
  SequenceSchema,
  TableSchema,
  TriggerSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { pgValueEncoding } from './postgres-values.js'
import type {
  PgColumnExtra,
  PgIndexExtra,
  PgInheritedExtra,
  PgKeyExtra,
  PgPolicy,
  PgReplicaIdentity,
  PgSequenceExtra,
  PgTableExtra,
  PgTriggerExtra,
  PgViewExtra,
} from './postgres-schema-extra.js'
import { compareText } from '../catalog-order.js'

export interface ServerRow {
  version: number
  settings: string[]
}

export interface TableRow {
  oid: string
  schema: string
  name: string
  kind: string
  is_partition: boolean
  unlogged: boolean
  row_security: boolean
  force_row_security: boolean
  options: string[]
  replica_identity: string
  replica_index: string | null
  partition_by: string | null
  partition_bound: string | null
  parents: QualifiedName[]
  comment: string | null
  reltuples: number
  bytes: string | null
}

export interface ViewRow {
  oid: string
  schema: string
  name: string
  materialized: boolean
  definition: string
  options: string[]
  populated: boolean
  comment: string | null
}

export interface ColumnRow {
  rel: string
  num: number
  name: string
  type: string
  not_null: boolean
  default_expr: string | null
  generated: string | null
  identity: string
  collation: string | null
  type_oid: number
  type_name: string
  type_schema: string
  base_type: string
  comment: string | null
  /** Declared by the table itself; a partition's columns count as its own (restore attaches it). */
  local: boolean
  statistics: number | null
  storage: string | null
  options: string[] | null
}

export interface ConstraintRow {
  rel: string
  name: string
  type: string
  definition: string
  deferrable: boolean
  deferred: boolean
  local: boolean
  columns: string[]
  ref_schema: string | null
  ref_name: string | null
  ref_columns: string[]
  on_update: string
  on_delete: string
  derived: 'none' | 'parent' | 'referenced'
  nulls_not_distinct: boolean
}

export interface IndexRow {
  rel: string
  name: string
  is_unique: boolean
  method: string
  key_count: number
  columns: string[]
  predicate: string | null
  definition: string
  is_constraint: boolean
  valid: boolean
  clustered: boolean
  nulls_not_distinct: boolean
  parent_schema: string | null
  parent_name: string | null
}

export interface TriggerRow {
  rel: string
  name: string
  definition: string
  enabled: string
  inherited: boolean
}

export interface StatisticsRow extends QualifiedName {
  rel: string
  definition: string
  target: number | null
}

export interface PolicyRow {
  rel: string
  name: string
  permissive: boolean
  command: string
  roles: string[]
  using_expr: string | null
  check_expr: string | null
}

export interface RangeRow extends QualifiedName {
  subtype: string
  subtype_opclass: string | null
  collation: string | null
  canonical: string | null
  subtype_diff: string | null
  multirange: string | null
}

export interface EventTriggerRow {
  name: string
  event: string
  tags: string[]
  function: string
  enabled: string
}

export interface PublicationRow {
  name: string
  all_tables: boolean
  insert: boolean
  update: boolean
  delete: boolean
  truncate: boolean
  via_root: boolean
  tables: PublicationSchema['tables']
  schemas: string[]
}

export interface CollationRow extends QualifiedName {
  provider: 'icu' | 'libc'
  locale: string | null
  lc_collate: string | null
  lc_ctype: string | null
  deterministic: boolean
}

export interface RuleRow {
  rel: string
  name: string
  definition: string
  enabled: string
}

export interface RoutineRow {
  schema: string
  name: string
  kind: string
  arguments: string
  returns: string | null
  language: string
  definition: string | null
  qualified: string
  all_arguments: string
  parallel: string
  agg_kind: string | null
  sfunc: string | null
  stype: string | null
  sspace: number | null
  finalfunc: string | null
  finalfunc_extra: boolean | null
  finalfunc_modify: string | null
  combinefunc: string | null
  serialfunc: string | null
  deserialfunc: string | null
  initcond: string | null
  msfunc: string | null
  minvfunc: string | null
  mstype: string | null
  msspace: number | null
  mfinalfunc: string | null
  mfinalfunc_extra: boolean | null
  mfinalfunc_modify: string | null
  minitcond: string | null
  sortop: string | null
}

export interface SequenceRow {
  schema: string
  name: string
  type: string
  start: string
  increment: string
  min: string
  max: string
  cycle: boolean
  last_value: string | null
  cache: string | null
  owner_schema: string | null
  owner_name: string | null
  owner_column: string | null
  identity: boolean
}

export interface DomainRow {
  schema: string
  name: string
  base_type: string
  not_null: boolean
  default_expr: string | null
  collation: string | null
  checks: CheckSchema[]
}

const FK_ACTIONS: Record<string, ForeignKeySchema['onDelete']> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
}

/** `pg_trigger.tgenabled`, `pg_rewrite.ev_enabled` and `pg_event_trigger.evtenabled`. */
export const TRIGGER_FIRING: Record<string, PgTriggerExtra['firing']> = {
  O: 'origin',
  R: 'replica',
  A: 'always',
  D: 'disabled',
}

const ROUTINE_KINDS: Record<string, RoutineSchema['kind']> = {
  f: 'function',
  p: 'procedure',
  a: 'aggregate',
  w: 'window',
}

/**
 * The kinds of object (as pg_identify_object_as_address names them) whose comments are read
 * into `DatabaseSchema.comments`; `commentStatements` in postgres-ddl.ts writes each back.
 * Each is a schema or lives in one of `COMMENTED_CATALOGS`.
 */
export const COMMENT_KINDS = [
  'schema',
  'type',
  'domain constraint',
  'function',
  'procedure',
  'aggregate',
  'index',
  'sequence',
  'collation',
  'table constraint',
  'trigger',
  'rule',
  'policy',
  'view column',
  'materialized view column',
  'composite type column',
] as const

const STORAGE: Record<string, NonNullable<PgColumnExtra['storage']>> = {
  p: 'plain',
  e: 'external',
  x: 'extended',
  m: 'main',
}

export const POLICY_COMMANDS: Record<string, PgPolicy['command']> = {
  '*': 'all',
  r: 'select',
  a: 'insert',
  w: 'update',
  d: 'delete',
}

const AGG_MODIFY: Record<string, string> = { r: 'READ_ONLY', s: 'SHAREABLE', w: 'READ_WRITE' }

export function toTable(row: TableRow): { table: TableSchema; extra: PgTableExtra } {
  const parent = row.is_partition ? row.parents[0] : undefined
  const extra: PgTableExtra = {
    unlogged: row.unlogged,
    rowSecurity: row.row_security,
    forceRowSecurity: row.force_row_security,
    options: row.options,
    inherits: row.is_partition ? [] : row.parents,
    exclusionConstraints: [],
  }
  const identity = replicaIdentity(row)
  if (identity !== undefined) extra.replicaIdentity = identity
  const table: TableSchema = {
    schema: row.schema,
    name: row.name,
    kind: row.kind === 'p' ? 'partitioned' : 'table',
    columns: [],
    primaryKey: null,
    uniqueKeys: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    triggers: [],
    rules: [],
    partitionOf:
      parent === undefined
        ? null
        : { schema: parent.schema, name: parent.name, bound: row.partition_bound ?? '' },
    partitionBy: row.partition_by,
    comment: row.comment,
    // PostgreSQL 14+ stores -1 for "never vacuumed or analyzed".
    estimatedRows: row.reltuples < 0 ? null : Math.round(row.reltuples),
    estimatedBytes: row.bytes === null ? null : Number(row.bytes),
    extra,
  }
  return { table, extra }
}

function replicaIdentity(row: TableRow): PgReplicaIdentity | undefined {
  switch (row.replica_identity) {
    case 'f':
      return 'full'
    case 'n':
      return 'nothing'
    case 'i':
      // Set to an index that was dropped since: PostgreSQL then behaves as NOTHING.
      return row.replica_index === null ? 'nothing' : { index: row.replica_index }
    default:
      return undefined
  }
}

export function toView(row: ViewRow): ViewSchema & { triggers: TriggerSchema[] } {
  const extra: PgViewExtra = row.materialized
    ? { options: row.options, populated: row.populated }
    : { options: row.options }
  return {
    schema: row.schema,
    name: row.name,
    materialized: row.materialized,
    definition: row.definition,
    columns: [],
    indexes: [],
    triggers: [],
    comment: row.comment,
    extra,
  }
}

export function toColumn(row: ColumnRow): ColumnSchema {
  return {
    name: row.name,
    type: row.type,
    encoding: pgValueEncoding(row.base_type),
    nullable: !row.not_null,
    default: row.default_expr,
    generated: row.generated,
    identity: row.identity === 'a' ? 'always' : row.identity === 'd' ? 'by-default' : null,
    collation: row.collation,
    comment: row.comment,
    extra: {
      typeOid: row.type_oid,
      typeName: row.type_name,
      typeSchema: row.type_schema,
      baseType: row.base_type,
      ...(row.local ? {} : { inherited: true as const }),
      ...(row.statistics === null ? {} : { statistics: row.statistics }),
      ...(row.storage === null ? {} : { storage: STORAGE[row.storage] }),
      ...(row.options === null ? {} : { options: row.options }),
    } satisfies PgColumnExtra,
  }
}

export function addConstraint(table: TableSchema, extra: PgTableExtra, row: ConstraintRow): void {
  const inherited = !row.local
  switch (row.type) {
    case 'p':
    case 'u': {
      const key: KeyConstraintSchema = {
        name: row.name,
        columns: row.columns,
        extra: {
          definition: row.definition,
          deferrable: row.deferrable,
          initiallyDeferred: row.deferred,
          nullsNotDistinct: row.nulls_not_distinct,
          inherited,
        } satisfies PgKeyExtra,
      }
      if (row.type === 'p') table.primaryKey = key
      else table.uniqueKeys.push(key)
      return
    }
    case 'f':
      // The copies PostgreSQL adds per partition of a referenced partitioned table belong to
      // the one foreign key the user declared; restore recreates them with it.
      if (row.derived === 'referenced') return
      table.foreignKeys.push({
        name: row.name,
        columns: row.columns,
        references: {
          schema: row.ref_schema ?? '',
          name: row.ref_name ?? '',
          columns: row.ref_columns,
        },
        onUpdate: FK_ACTIONS[row.on_update] ?? 'no action',
        onDelete: FK_ACTIONS[row.on_delete] ?? 'no action',
        deferrable: row.deferrable,
        initiallyDeferred: row.deferred,
        definition: row.definition,
        extra: { inherited } satisfies PgInheritedExtra,
      })
      return
    case 'c':
      table.checks.push({
        name: row.name,
        definition: row.definition,
        extra: { inherited } satisfies PgInheritedExtra,
      })
      return
    case 'x':
      extra.exclusionConstraints.push({ name: row.name, definition: row.definition, inherited })
      return
  }
}

export function toIndex(row: IndexRow): IndexSchema {
  return {
    name: row.name,
    unique: row.is_unique,
    method: row.method,
    columns: row.columns.slice(0, row.key_count),
    predicate: row.predicate,
    definition: row.definition,
    constraint: row.is_constraint,
    extra: {
      include: row.columns.slice(row.key_count),
      nullsNotDistinct: row.nulls_not_distinct,
      valid: row.valid,
      ...(row.clustered ? { clustered: true as const } : {}),
      parent:
        row.parent_schema === null || row.parent_name === null
          ? null
          : { schema: row.parent_schema, name: row.parent_name },
    } satisfies PgIndexExtra,
  }
}

export function toRoutine(row: RoutineRow): RoutineSchema {
  const kind = ROUTINE_KINDS[row.kind] ?? 'function'
  return {
    schema: row.schema,
    name: row.name,
    kind,
    arguments: row.arguments,
    returns: row.returns,
    language: row.language,
    definition: kind === 'aggregate' ? aggregateDefinition(row) : (row.definition ?? ''),
  }
}

/**
 * `CREATE AGGREGATE` for an aggregate, which pg_get_functiondef refuses to print: the options
 * pg_dump writes, in pg_dump's order, defaults left out, so the text is stable and restorable
 * (string constants are quote_literal's, which may use the E'' form pg_dump avoids).
 */
function aggregateDefinition(row: RoutineRow): string {
  // Ordered-set aggregates default to READ_WRITE final functions, normal ones to READ_ONLY.
  const defaultModify = row.agg_kind === 'n' ? 'r' : 'w'
  const modify = (code: string | null): string => AGG_MODIFY[code ?? ''] ?? ''
  // A schema-qualified operator is only accepted in OPERATOR(...) syntax.
  const sortop = row.sortop?.includes('.') === true ? `OPERATOR(${row.sortop})` : row.sortop
  const options: [boolean, string][] = [
    [true, `SFUNC = ${row.sfunc ?? ''}`],
    [true, `STYPE = ${row.stype ?? ''}`],
    [(row.sspace ?? 0) !== 0, `SSPACE = ${row.sspace}`],
    [row.initcond !== null, `INITCOND = ${row.initcond}`],
    [row.finalfunc !== null, `FINALFUNC = ${row.finalfunc}`],
    [row.finalfunc !== null && row.finalfunc_extra === true, 'FINALFUNC_EXTRA'],
    [
      row.finalfunc !== null && row.finalfunc_modify !== defaultModify,
      `FINALFUNC_MODIFY = ${modify(row.finalfunc_modify)}`,
    ],
    [row.combinefunc !== null, `COMBINEFUNC = ${row.combinefunc}`],
    [row.serialfunc !== null, `SERIALFUNC = ${row.serialfunc}`],
    [row.deserialfunc !== null, `DESERIALFUNC = ${row.deserialfunc}`],
    [row.msfunc !== null, `MSFUNC = ${row.msfunc}`],
    [row.msfunc !== null, `MINVFUNC = ${row.minvfunc}`],
    [row.msfunc !== null, `MSTYPE = ${row.mstype}`],
    [(row.msspace ?? 0) !== 0, `MSSPACE = ${row.msspace}`],
    [row.minitcond !== null, `MINITCOND = ${row.minitcond}`],
    [row.mfinalfunc !== null, `MFINALFUNC = ${row.mfinalfunc}`],
    [row.mfinalfunc !== null && row.mfinalfunc_extra === true, 'MFINALFUNC_EXTRA'],
    [
      row.mfinalfunc !== null && row.mfinalfunc_modify !== defaultModify,
      `MFINALFUNC_MODIFY = ${modify(row.mfinalfunc_modify)}`,
    ],
    [sortop !== null, `SORTOP = ${sortop}`],
    [row.agg_kind === 'h', 'HYPOTHETICAL'],
    [row.parallel === 's', 'PARALLEL = safe'],
    [row.parallel === 'r', 'PARALLEL = restricted'],
  ]
  const body = options.filter(([present]) => present).map(([, text]) => text)
  const args = row.all_arguments === '' ? '*' : row.all_arguments
  return `CREATE AGGREGATE ${row.qualified}(${args}) (\n    ${body.join(',\n    ')}\n);\n`
}

export function toCollation(row: CollationRow): CollationSchema {
  return {
    schema: row.schema,
    name: row.name,
    provider: row.provider,
    locale: row.locale,
    lcCollate: row.lc_collate,
    lcCtype: row.lc_ctype,
    deterministic: row.deterministic,
  }
}

export function toSequence(row: SequenceRow): SequenceSchema {
  return {
    schema: row.schema,
    name: row.name,
    type: row.type,
    start: row.start,
    increment: row.increment,
    min: row.min,
    max: row.max,
    cycle: row.cycle,
    lastValue: row.last_value,
    ownedBy:
      row.owner_schema === null || row.owner_name === null || row.owner_column === null
        ? null
        : { schema: row.owner_schema, name: row.owner_name, column: row.owner_column },
    extra: {
      identity: row.identity,
      ...(row.cache === null ? {} : { cache: row.cache }),
    } satisfies PgSequenceExtra,
  }
}

export function toDomain(row: DomainRow): DomainSchema {
  return {
    schema: row.schema,
    name: row.name,
    baseType: row.base_type,
    nullable: !row.not_null,
    default: row.default_expr,
    checks: row.checks
      .map((check) => ({ name: check.name, definition: check.definition }))
      .sort((a, b) => compareText(a.name, b.name)),
    collation: row.collation,
  }
}
