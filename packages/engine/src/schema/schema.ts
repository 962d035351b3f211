// The normalized schema of a database, the same shape for every engine: what a snapshot
// records, what schema diff compares and what restore recreates. Engine-specific facts go in
// each object's typed `extra`.

import type { ValueEncoding } from '../canonical/value-encoding.js'

/** The database engines DBSnap reads and restores. */
export const ENGINE_NAMES = ['postgres', 'mysql', 'mongodb'] as const

export type Engine = (typeof ENGINE_NAMES)[number]

/** A schema-qualified name. `schema` is '' for engines without schemas (MySQL db = schema, MongoDB). */
export interface QualifiedName {
  schema: string
  name: string
}

export interface ColumnSchema {
  name: string
  /** The type as the engine spells it in DDL, e.g. `numeric(10,2)`, `public.mood[]`. */
  type: string
  /** How values of this column are written in canonical rows (docs/snapshot-format.md). */
  encoding: ValueEncoding
  nullable: boolean
  /** Default expression as the engine prints it, or null. */
  default: string | null
  /** Expression of a generated (computed) column, or null. */
  generated: string | null
  /** Identity column: `always` | `by-default`, or null. */
  identity: 'always' | 'by-default' | null
  /**
   * Collation when not the type's default, as DDL spells it (PostgreSQL: quoted where needed and
   * schema-qualified outside `pg_catalog`, e.g. `"C"`), or null.
   */
  collation: string | null
  /** The column's comment, or null; absent when the engine has no column comments. */
  comment?: string | null
  /** Engine-specific facts, e.g. PostgreSQL `{ typeOid, typeName, typeSchema, baseType }`. */
  extra?: Record<string, unknown>
}

export interface KeyConstraintSchema {
  name: string
  columns: string[]
  /** PostgreSQL `NULLS NOT DISTINCT`, deferrable, …; null when not applicable. */
  extra?: Record<string, unknown>
}

export interface IndexSchema {
  name: string
  unique: boolean
  /** `btree`, `gin`, `hash`, … */
  method: string
  /** Plain column names, or expressions as the engine prints them, in index order. */
  columns: string[]
  /** Partial index predicate, or null. */
  predicate: string | null
  /** Full definition as the engine prints it (`CREATE INDEX …`), for restore and diff. */
  definition: string
  /** True when the index backs a primary-key or unique constraint. */
  constraint: boolean
  extra?: Record<string, unknown>
}

export interface ForeignKeySchema {
  name: string
  columns: string[]
  references: QualifiedName & { columns: string[] }
  onUpdate: 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default'
  onDelete: 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default'
  deferrable: boolean
  initiallyDeferred: boolean
  definition: string
  /** E.g. PostgreSQL `{ inherited }` for a copy PostgreSQL keeps on each partition. */
  extra?: Record<string, unknown>
}

export interface CheckSchema {
  name: string
  /** The check expression as the engine prints it, e.g. `CHECK ((price > 0))`. */
  definition: string
  /** E.g. PostgreSQL `{ inherited }` for a check that comes from a parent table only. */
  extra?: Record<string, unknown>
}

export interface TriggerSchema {
  name: string
  definition: string
  enabled: boolean
  /** E.g. PostgreSQL `{ firing, inherited }`: replica/always firing, a partition's clone. */
  extra?: Record<string, unknown>
}

/** A rewrite rule (PostgreSQL `CREATE RULE … DO INSTEAD …`) on a table or view. */
export interface RuleSchema {
  name: string
  /** Full `CREATE RULE …` as the engine prints it. */
  definition: string
  /** E.g. PostgreSQL `{ firing }`: `ALTER TABLE … DISABLE / ENABLE REPLICA / ALWAYS RULE`. */
  extra?: Record<string, unknown>
}

export interface TableSchema extends QualifiedName {
  /**
   * `table`, `partitioned` (parent of partitions), `collection` (MongoDB: columns `_id` and
   * `document`, docs/mongodb.md); views are in `DatabaseSchema.views`.
   */
  kind: 'table' | 'partitioned' | 'collection'
  columns: ColumnSchema[]
  primaryKey: KeyConstraintSchema | null
  uniqueKeys: KeyConstraintSchema[]
  indexes: IndexSchema[]
  foreignKeys: ForeignKeySchema[]
  checks: CheckSchema[]
  triggers: TriggerSchema[]
  /** Rewrite rules; absent when the engine has none (and in snapshots older than them). */
  rules?: RuleSchema[]
  /** For a partition: its parent and bound (`FOR VALUES FROM (…) TO (…)`). */
  partitionOf: (QualifiedName & { bound: string }) | null
  /** For a partitioned table: `RANGE (created_at)` etc. */
  partitionBy: string | null
  comment: string | null
  /** Planner's row estimate, used to size chunks; null when unknown. */
  estimatedRows: number | null
  /**
   * Bytes on disk (heap only), used to size chunks; null when unknown or when the table has no
   * storage of its own (a partitioned parent: its rows live in the partitions).
   */
  estimatedBytes: number | null
  extra?: Record<string, unknown>
}

export interface ViewSchema extends QualifiedName {
  materialized: boolean
  definition: string
  columns: { name: string; type: string }[]
  /** Indexes on a materialized view. */
  indexes: IndexSchema[]
  /** Triggers on the view (PostgreSQL `INSTEAD OF`); absent when the engine has none. */
  triggers?: TriggerSchema[]
  /** Rewrite rules other than the view's own `_RETURN`; absent when the engine has none. */
  rules?: RuleSchema[]
  comment?: string | null
  /** E.g. PostgreSQL `{ options, populated }` (`security_barrier`, `check_option`, …). */
  extra?: Record<string, unknown>
}

export interface RoutineSchema extends QualifiedName {
  kind: 'function' | 'procedure' | 'aggregate' | 'window'
  /** Argument signature, e.g. `a integer, b text`; with the name it identifies an overload. */
  arguments: string
  returns: string | null
  language: string
  /**
   * Full `CREATE OR REPLACE FUNCTION …` as the engine prints it (PostgreSQL aggregates, which
   * the server cannot print: a `CREATE AGGREGATE` built from the catalog the way pg_dump does).
   */
  definition: string
  /** E.g. MySQL `{ deterministic, dataAccess, security, definer, sqlMode }`. */
  extra?: Record<string, unknown>
}

export interface SequenceSchema extends QualifiedName {
  type: string
  start: string
  increment: string
  min: string
  max: string
  cycle: boolean
  /** Current value as of the snapshot (null when never called), as a decimal string. */
  lastValue: string | null
  /** The column that owns it (`serial`/identity), or null. */
  ownedBy: (QualifiedName & { column: string }) | null
  /** E.g. PostgreSQL `{ identity }`: the sequence behind an identity column. */
  extra?: Record<string, unknown>
}

export interface EnumSchema extends QualifiedName {
  values: string[]
}

export interface DomainSchema extends QualifiedName {
  baseType: string
  nullable: boolean
  default: string | null
  checks: CheckSchema[]
  collation: string | null
}

export interface CompositeTypeSchema extends QualifiedName {
  attributes: { name: string; type: string }[]
}

/** A range type (PostgreSQL `CREATE TYPE … AS RANGE`); names as DDL prints them. */
export interface RangeTypeSchema extends QualifiedName {
  subtype: string
  /** Operator class, collation, canonical and difference functions when not defaults, or null. */
  subtypeOpclass: string | null
  collation: string | null
  canonical: string | null
  subtypeDiff: string | null
  /** Its multirange type (PostgreSQL 14+), or null. */
  multirange: string | null
}

export interface ExtensionSchema {
  name: string
  schema: string
  version: string
}

/** A scheduled event (MySQL/MariaDB `CREATE EVENT`). */
export interface EventSchema extends QualifiedName {
  /** Full `CREATE EVENT …` as the engine prints it. */
  definition: string
  /** False for a disabled event (MySQL `DISABLE`, `DISABLE ON SLAVE`). */
  enabled: boolean
  /** E.g. MySQL `{ status, definer, timeZone, sqlMode }`. */
  extra?: Record<string, unknown>
}

/** A collation of the database's own (PostgreSQL `CREATE COLLATION`). */
export interface CollationSchema extends QualifiedName {
  provider: 'icu' | 'libc'
  /** ICU locale; null for libc. */
  locale: string | null
  /** libc `LC_COLLATE` and `LC_CTYPE`; null for ICU. */
  lcCollate: string | null
  lcCtype: string | null
  deterministic: boolean
}

/**
 * A comment on an object that has no `comment` field of its own (PostgreSQL `COMMENT ON …`
 * of a function, index, constraint, trigger, type, schema, …), by its catalog address.
 */
export interface CommentSchema {
  /** The object's kind as PostgreSQL names it: `function`, `index`, `table constraint`, … */
  kind: string
  /** Its name parts (`[schema, table, constraint]`; a type's name as DDL prints it). */
  names: string[]
  /** A routine's argument types; a domain constraint's name. */
  args: string[]
  comment: string
}

/** An operator (PostgreSQL `CREATE OPERATOR`); types and functions as DDL prints them. */
export interface OperatorSchema extends QualifiedName {
  /** Left and right operand types; null for a prefix operator's left. */
  left: string | null
  right: string | null
  function: string
  /** `schema.op` of the commutator and negator, or null. */
  commutator: string | null
  negator: string | null
  /** Selectivity estimators, or null. */
  restrict: string | null
  join: string | null
  hashes: boolean
  merges: boolean
}

/** A cast between types (PostgreSQL `CREATE CAST`); types and function as DDL prints them. */
export interface CastSchema {
  source: string
  target: string
  method: 'function' | 'inout' | 'binary'
  /** The function with its argument types (`public.f(integer)`), for `function`; else null. */
  function: string | null
  context: 'explicit' | 'assignment' | 'implicit'
}

/** A text search configuration (PostgreSQL `CREATE TEXT SEARCH CONFIGURATION`). */
export interface TextSearchConfigSchema extends QualifiedName {
  parser: string
  /** Token types and the dictionaries each goes through, in order. */
  mappings: { token: string; dictionaries: string[] }[]
}

/** An event trigger (PostgreSQL `CREATE EVENT TRIGGER`): database-wide, fired by DDL. */
export interface EventTriggerSchema {
  name: string
  /** `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`. */
  event: string
  /** `WHEN TAG IN (…)`; empty for every command. */
  tags: string[]
  /** The function it runs, schema-qualified as DDL prints it. */
  function: string
  /** `ALTER EVENT TRIGGER … ENABLE [REPLICA | ALWAYS] / DISABLE` state. */
  firing: 'origin' | 'replica' | 'always' | 'disabled'
}

/** A publication for logical replication (PostgreSQL `CREATE PUBLICATION`): database-wide. */
export interface PublicationSchema {
  name: string
  allTables: boolean
  /** The operations it publishes: `insert`, `update`, `delete`, `truncate`. */
  publish: string[]
  viaPartitionRoot: boolean
  /** Its tables, with a column list and a row filter (PostgreSQL 15+) or null. */
  tables: (QualifiedName & { columns: string[] | null; where: string | null })[]
  /** `TABLES IN SCHEMA` (PostgreSQL 15+). */
  schemas: string[]
}

/** Everything a snapshot knows about the structure of one database. */
export interface DatabaseSchema {
  engine: Engine
  /** Schemas (namespaces) that hold user objects, e.g. `['public', 'sales']`. */
  schemas: string[]
  tables: TableSchema[]
  views: ViewSchema[]
  routines: RoutineSchema[]
  sequences: SequenceSchema[]
  enums: EnumSchema[]
  domains: DomainSchema[]
  compositeTypes: CompositeTypeSchema[]
  extensions: ExtensionSchema[]
  /** Scheduled events; absent for engines without them. */
  events?: EventSchema[]
  /** Range types; absent for engines without them (and in older snapshots). */
  rangeTypes?: RangeTypeSchema[]
  /** Collations of its own; absent for engines without them (and in older snapshots). */
  collations?: CollationSchema[]
  /** Comments not held by the objects themselves; absent for engines without them. */
  comments?: CommentSchema[]
  /** Operators; absent for engines without them (and in older snapshots). */
  operators?: OperatorSchema[]
  /** Casts involving a type of the database's own; absent for engines without them. */
  casts?: CastSchema[]
  /** Text search configurations; absent for engines without them (and in older snapshots). */
  textSearchConfigs?: TextSearchConfigSchema[]
  /** Event triggers; absent for engines without them (and in older snapshots). */
  eventTriggers?: EventTriggerSchema[]
  /** Publications; absent for engines without them (and in older snapshots). */
  publications?: PublicationSchema[]
}
