// The PostgreSQL `extra` fields of the normalized schema: what introspection records beyond the
// shape every engine shares, and what the DDL, the SQL export and the restore read back.

import type { QualifiedName } from '../../schema/schema.js'

/** `ColumnSchema.extra` on PostgreSQL. */
export type PgColumnExtra = {
  /** `pg_type` OID of the column's type: stable for built-in types only (below 16384). */
  typeOid: number
  typeName: string
  typeSchema: string
  /** `typname` of the type after resolving domains (arrays are `_elem`); gives `encoding`. */
  baseType: string
  /**
   * Present (true) on a column a table only inherits (`INHERITS`) and does not declare itself:
   * restore leaves it out of `CREATE TABLE`, so the parent gives it as it did.
   */
  inherited?: true
  /** `ALTER COLUMN … SET STATISTICS`; absent for the server's default. */
  statistics?: number
  /** `ALTER COLUMN … SET STORAGE` when not the type's default. */
  storage?: 'plain' | 'external' | 'extended' | 'main'
  /**
   * `ALTER COLUMN … SET (n_distinct = …)`, as `pg_attribute.attoptions`; absent when none. Only
   * the options PostgreSQL documents for columns: a server module may keep its own there.
   */
  options?: string[]
}

/** `KeyConstraintSchema.extra` (primary and unique keys) on PostgreSQL. */
export type PgKeyExtra = {
  definition: string
  deferrable: boolean
  initiallyDeferred: boolean
  /** `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15+). */
  nullsNotDistinct: boolean
  /** Cloned from the partitioned parent's key; restore creates the parent's only. */
  inherited: boolean
}

/** `IndexSchema.extra` on PostgreSQL. */
export type PgIndexExtra = {
  /** Non-key `INCLUDE (…)` columns. */
  include: string[]
  /** `NULLS NOT DISTINCT` (PostgreSQL 15+). */
  nullsNotDistinct: boolean
  /** False for an index left behind by a failed `CREATE INDEX CONCURRENTLY`. */
  valid: boolean
  /** The partitioned index this partition's index is attached to, or null. */
  parent: QualifiedName | null
  /** `ALTER TABLE … CLUSTER ON` this index; absent when not. */
  clustered?: true
}

/** `CheckSchema.extra` and `ForeignKeySchema.extra` on PostgreSQL. */
export type PgInheritedExtra = {
  /** Only inherited from a parent table (partition clone, `INHERITS`); not declared here. */
  inherited: boolean
}

/** `TriggerSchema.extra` on PostgreSQL. */
export type PgTriggerExtra = {
  /** `ALTER TABLE … ENABLE [REPLICA | ALWAYS] TRIGGER` state. */
  firing: 'origin' | 'replica' | 'always' | 'disabled'
  /** Cloned from a trigger on the partitioned parent. */
  inherited: boolean
}

/** `RuleSchema.extra` on PostgreSQL. */
export type PgRuleExtra = {
  /** `ALTER TABLE … ENABLE [REPLICA | ALWAYS] RULE` state. */
  firing: 'origin' | 'replica' | 'always' | 'disabled'
}

/**
 * A table's `REPLICA IDENTITY` when not `DEFAULT`: `FULL`, `NOTHING` or `USING INDEX` (named).
 */
export type PgReplicaIdentity = 'full' | 'nothing' | { index: string }

/** A row-level security policy (`CREATE POLICY`). */
export type PgPolicy = {
  name: string
  permissive: boolean
  command: 'all' | 'select' | 'insert' | 'update' | 'delete'
  /** Role names it applies to; `public` for PUBLIC. */
  roles: string[]
  /** `USING` and `WITH CHECK` expressions as the server prints them, or null. */
  using: string | null
  check: string | null
}

/** An extended statistics object (`CREATE STATISTICS`). */
export type PgStatisticsObject = {
  schema: string
  name: string
  definition: string
  /** `ALTER STATISTICS … SET STATISTICS`; absent for the default. */
  target?: number
}

/** `TableSchema.extra` on PostgreSQL. */
export type PgTableExtra = {
  unlogged: boolean
  rowSecurity: boolean
  forceRowSecurity: boolean
  /** Storage parameters (`fillfactor=70`, autovacuum settings), as `pg_class.reloptions`. */
  options: string[]
  /** Parents by plain (non-partition) inheritance, in declaration order. */
  inherits: QualifiedName[]
  exclusionConstraints: { name: string; definition: string; inherited: boolean }[]
  /**
   * Absent for `REPLICA IDENTITY DEFAULT`, so a table that never had it set compares equal
   * to one in a snapshot taken before replica identities were read.
   */
  replicaIdentity?: PgReplicaIdentity
  /** Row-level security policies, by name; absent when there are none (as for replicaIdentity). */
  policies?: PgPolicy[]
  /** Extended statistics objects (`CREATE STATISTICS`) on it; absent when there are none. */
  statistics?: PgStatisticsObject[]
}

/** `ViewSchema.extra` on PostgreSQL. */
export type PgViewExtra = {
  /** `security_barrier`, `check_option`, … as `pg_class.reloptions`. */
  options: string[]
  /** Materialized views only: false after `WITH NO DATA`. */
  populated?: boolean
}

/** `SequenceSchema.extra` on PostgreSQL. */
export type PgSequenceExtra = {
  /** The sequence behind an identity column (created with the column, not on its own). */
  identity: boolean
  /** `CACHE`, when not 1. */
  cache?: string
}
