// Reads a PostgreSQL database's schema from the system catalogs into the normalized
// DatabaseSchema: one read-only query per object kind, inside the caller's transaction.

import type { ConnectionTarget } from '../../connection/url.js'
import {
  DbsnapError,
  abortError,
  isDbsnapError,
  throwIfAborted,
  type ErrorCode,
} from '../../errors.js'
import type {
  CastSchema,
  CheckSchema,
  CollationSchema,
  ColumnSchema,
  CommentSchema,
  CompositeTypeSchema,
  DatabaseSchema,
  DomainSchema,
  EnumSchema,
  EventTriggerSchema,
  ExtensionSchema,
  ForeignKeySchema,
  IndexSchema,
  KeyConstraintSchema,
  OperatorSchema,
  PublicationSchema,
  QualifiedName,
  RangeTypeSchema,
  RoutineSchema,
  RuleSchema,
  SequenceSchema,
  TableSchema,
  TextSearchConfigSchema,
  TriggerSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { endpoint, scrub } from '../connect-errors.js'
import { LOCKED_MESSAGE, postgresError } from './postgres-errors.js'
import { PG_SESSION_SETTINGS, pgValueEncoding } from './postgres-values.js'

/**
 * The part of a node-postgres `Client` (or `PoolClient`) introspection uses. Queries run in
 * the order they are issued on one connection, so they all see the caller's transaction.
 */
export interface PgQueryable {
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>
}

export interface IntrospectPostgresOptions {
  /** Checked between queries; an aborted introspection rejects with `ABORTED`. */
  signal?: AbortSignal
  /**
   * Only these schemas (exact names, case-sensitive). System schemas are never reported, even
   * when named here. Extensions are database-wide and always reported.
   */
  schemas?: string[]
  /** The connection's target, so connection failures map like every other PostgreSQL call. */
  target?: ConnectionTarget
  /** The connection's query timeout in milliseconds, named in timeout messages. Default 10 000. */
  timeoutMs?: number
}

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

const MIN_VERSION_NUM = 130000
const DEFAULT_TIMEOUT_MS = 10_000

/**
 * Settings pinned while introspecting, because the server's deparsers print according to them:
 * an empty search_path makes every name outside pg_catalog schema-qualified (as pg_dump does),
 * and the value settings fix how constants in defaults and checks are printed. The result is
 * then the same whoever connects, and every definition is valid DDL in any database.
 * client_encoding is the driver's and is left alone.
 */
const PINNED_SETTINGS: readonly (readonly [string, string])[] = [
  ['search_path', ''],
  ['quote_all_identifiers', 'off'],
  ...Object.entries(PG_SESSION_SETTINGS).filter(([name]) => name !== 'client_encoding'),
]

/** User namespaces: never system ones (names starting `pg_` are reserved for those). */
const USER_NAMESPACE = `n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`

/** SQL that is true when the object is not a member of an extension (`CREATE EXTENSION`). */
function notInExtension(catalog: string, oid: string): string {
  return `NOT EXISTS (SELECT 1 FROM pg_depend x
    WHERE x.classid = '${catalog}'::regclass AND x.objid = ${oid} AND x.deptype = 'e')`
}

/** SQL for the names of the columns `attnums` (an int2[]) of `rel`, in array order. */
function attributeNames(attnums: string, rel: string): string {
  return `ARRAY(SELECT a.attname::text FROM unnest(${attnums}) WITH ORDINALITY AS k(num, ord)
    JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.num ORDER BY k.ord)`
}

/** SQL for a collation as DDL spells it: quoted as needed, qualified outside pg_catalog. */
function collationName(oid: string): string {
  return `(SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(cl.collname)
      ELSE quote_ident(cn.nspname) || '.' || quote_ident(cl.collname) END
    FROM pg_collation cl JOIN pg_namespace cn ON cn.oid = cl.collnamespace WHERE cl.oid = ${oid})`
}

const SQL_SERVER = `SELECT pg_catalog.current_setting('server_version_num')::int AS version,
  ARRAY(SELECT pg_catalog.current_setting(s.name) FROM pg_catalog.unnest($1::text[])
    WITH ORDINALITY AS s(name, ord) ORDER BY s.ord) AS settings`

const SQL_SET = `SELECT pg_catalog.set_config(s.name, s.value, false)
  FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(name, value)`

const SQL_SCHEMAS = `SELECT n.nspname::text AS name FROM pg_namespace n
  WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_namespace', 'n.oid')}`

const SQL_TABLES = `SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name,
    c.relkind::text AS kind, c.relispartition AS is_partition,
    c.relpersistence = 'u' AS unlogged, c.relrowsecurity AS row_security,
    c.relforcerowsecurity AS force_row_security, coalesce(c.reloptions, '{}')::text[] AS options,
    c.relreplident::text AS replica_identity,
    (SELECT ri.relname::text FROM pg_index i JOIN pg_class ri ON ri.oid = i.indexrelid
      WHERE i.indrelid = c.oid AND i.indisreplident) AS replica_index,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
    coalesce((SELECT json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname)
                ORDER BY h.inhseqno)
              FROM pg_inherits h JOIN pg_class pc ON pc.oid = h.inhparent
              JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE h.inhrelid = c.oid), '[]') AS parents,
    d.description AS comment, c.reltuples::float8 AS reltuples,
    CASE WHEN c.relkind = 'r' THEN pg_relation_size(c.oid)::text END AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_description d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
  WHERE c.relkind IN ('r', 'p') AND ${USER_NAMESPACE} AND ${notInExtension('pg_class', 'c.oid')}`

const SQL_VIEWS = `SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name,
    c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS definition,
    coalesce(c.reloptions, '{}')::text[] AS options, c.relispopulated AS populated,
    d.description AS comment
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_description d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
  WHERE c.relkind IN ('v', 'm') AND ${USER_NAMESPACE} AND ${notInExtension('pg_class', 'c.oid')}`

const SQL_COMPOSITES = `SELECT c.oid::text AS oid, n.nspname::text AS schema, t.typname::text AS name
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
  WHERE t.typtype = 'c' AND c.relkind = 'c' AND ${USER_NAMESPACE}
    AND ${notInExtension('pg_type', 't.oid')} AND ${notInExtension('pg_class', 'c.oid')}`

/**
 * Columns of every relation in the user namespaces (tables, views, composite types); those of
 * relations not reported (extension members) are dropped when attached. Domains over domains
 * are followed to the base type, which decides the canonical encoding.
 */
const SQL_COLUMNS = `WITH RECURSIVE domain_chain(oid, base) AS (
    SELECT t.oid, t.typbasetype FROM pg_type t WHERE t.typtype = 'd'
    UNION ALL
    SELECT d.oid, t.typbasetype FROM domain_chain d JOIN pg_type t ON t.oid = d.base
     WHERE t.typtype = 'd'
  ), domain_base AS (
    SELECT d.oid, d.base FROM domain_chain d JOIN pg_type t ON t.oid = d.base WHERE t.typtype <> 'd'
  )
  SELECT a.attrelid::text AS rel, a.attnum AS num, a.attname::text AS name,
    format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default_expr,
    CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
    a.attidentity::text AS identity,
    CASE WHEN a.attcollation <> t.typcollation THEN ${collationName('a.attcollation')} END AS collation,
    a.atttypid AS type_oid, t.typname::text AS type_name, tn.nspname::text AS type_schema,
    bt.typname::text AS base_type, d.description AS comment,
    a.attislocal OR c.relispartition AS local,
    CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS statistics,
    CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
    nullif(ARRAY(SELECT o FROM unnest(a.attoptions) AS o
      WHERE o ~ '^n_distinct(_inherited)?='), '{}') AS options
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_namespace tn ON tn.oid = t.typnamespace
  LEFT JOIN domain_base db ON db.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = coalesce(db.base, a.atttypid)
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  LEFT JOIN pg_description d
    ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'c')
    AND ${USER_NAMESPACE}`

/**
 * Primary, unique, foreign-key, check and exclusion constraints of tables. `derived` tells a
 * constraint cloned from a parent table's (`parent`) from the hidden per-partition copies of a
 * foreign key that references a partitioned table (`referenced`), which are implementation
 * detail of that one foreign key.
 */
function sqlConstraints(version: number): string {
  const nullsNotDistinct =
    version >= 150000
      ? `CASE WHEN co.contype IN ('p', 'u') THEN coalesce(
          (SELECT i.indnullsnotdistinct FROM pg_index i WHERE i.indexrelid = co.conindid), false)
          ELSE false END`
      : 'false'
  return `SELECT co.conrelid::text AS rel, co.conname::text AS name, co.contype::text AS type,
      pg_get_constraintdef(co.oid) AS definition,
      co.condeferrable AS deferrable, co.condeferred AS deferred, co.conislocal AS local,
      ${attributeNames('co.conkey', 'co.conrelid')} AS columns,
      rn.nspname::text AS ref_schema, rc.relname::text AS ref_name,
      ${attributeNames('co.confkey', 'co.confrelid')} AS ref_columns,
      co.confupdtype::text AS on_update, co.confdeltype::text AS on_delete,
      CASE WHEN co.conparentid = 0 THEN 'none'
           WHEN p.conrelid = co.conrelid THEN 'referenced' ELSE 'parent' END AS derived,
      ${nullsNotDistinct} AS nulls_not_distinct
    FROM pg_constraint co
    JOIN pg_class c ON c.oid = co.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_constraint p ON p.oid = co.conparentid
    LEFT JOIN pg_class rc ON rc.oid = co.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND c.relkind IN ('r', 'p') AND ${USER_NAMESPACE}`
}

/** Indexes of tables and materialized views; key columns by name, expressions deparsed. */
function sqlIndexes(version: number): string {
  const nullsNotDistinct = version >= 150000 ? 'i.indnullsnotdistinct' : 'false'
  return `SELECT i.indrelid::text AS rel, ic.relname::text AS name, i.indisunique AS is_unique,
      am.amname::text AS method, i.indnkeyatts AS key_count,
      ARRAY(SELECT CASE WHEN k.num = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int, true)
                        ELSE a.attname::text END
              FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, ord)
              LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
             ORDER BY k.ord) AS columns,
      pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
      pg_get_indexdef(i.indexrelid) AS definition,
      con.oid IS NOT NULL AS is_constraint, i.indisvalid AS valid, i.indisclustered AS clustered,
      ${nullsNotDistinct} AS nulls_not_distinct,
      pn.nspname::text AS parent_schema, pc.relname::text AS parent_name
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
      AND con.contype IN ('p', 'u', 'x')
    LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid
    LEFT JOIN pg_class pc ON pc.oid = h.inhparent
    LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    WHERE i.indislive AND c.relkind IN ('r', 'p', 'm') AND ${USER_NAMESPACE}`
}

/** User triggers (not the internal ones that implement foreign keys). */
const SQL_TRIGGERS = `SELECT t.tgrelid::text AS rel, t.tgname::text AS name,
    pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled,
    t.tgparentid <> 0 AS inherited
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p', 'v') AND ${USER_NAMESPACE}`

/** Rewrite rules of tables and views, but a view's own `_RETURN` rule (its query). */
const SQL_RULES = `SELECT r.ev_class::text AS rel, r.rulename::text AS name,
    pg_get_ruledef(r.oid) AS definition, r.ev_enabled::text AS enabled
  FROM pg_rewrite r
  JOIN pg_class c ON c.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p', 'v', 'm') AND ${USER_NAMESPACE}`

/** Row-level security policies of tables. */
const SQL_POLICIES = `SELECT p.polrelid::text AS rel, p.polname::text AS name,
    p.polpermissive AS permissive, p.polcmd::text AS command,
    ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE pg_get_userbyid(r.oid)::text END
            FROM unnest(p.polroles) WITH ORDINALITY AS r(oid, ord) ORDER BY r.ord) AS roles,
    pg_get_expr(p.polqual, p.polrelid) AS using_expr,
    pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
  FROM pg_policy p
  JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${USER_NAMESPACE}`

/** Extended statistics objects, by the table they are on. */
const SQL_STATISTICS = `SELECT s.stxrelid::text AS rel, n.nspname::text AS schema,
    s.stxname::text AS name, pg_get_statisticsobjdef(s.oid) AS definition,
    CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget END AS target
  FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
  WHERE ${USER_NAMESPACE}`

/** Collations created in the user namespaces (the ICU locale column was renamed in 17). */
function sqlCollations(version: number): string {
  const locale =
    version >= 170000
      ? 'co.colllocale'
      : version >= 150000
        ? 'co.colliculocale'
        : `CASE WHEN co.collprovider = 'i' THEN co.collcollate END`
  return `SELECT n.nspname::text AS schema, co.collname::text AS name,
      CASE WHEN co.collprovider = 'i' THEN 'icu' ELSE 'libc' END AS provider,
      CASE WHEN co.collprovider = 'i' THEN ${locale} END AS locale,
      CASE WHEN co.collprovider <> 'i' THEN co.collcollate END AS lc_collate,
      CASE WHEN co.collprovider <> 'i' THEN co.collctype END AS lc_ctype,
      co.collisdeterministic AS deterministic
    FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
    WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_collation', 'co.oid')}`
}

/**
 * The catalogs that hold the objects of `COMMENT_KINDS`, each with the SQL of an object's
 * namespace (`o` is the catalog row): its own, or its table's for triggers, rules and policies.
 */
const COMMENTED_CATALOGS: readonly (readonly [catalog: string, namespace: string])[] = [
  ['pg_class', 'o.relnamespace'],
  ['pg_type', 'o.typnamespace'],
  ['pg_proc', 'o.pronamespace'],
  ['pg_collation', 'o.collnamespace'],
  ['pg_constraint', 'o.connamespace'],
  ['pg_trigger', '(SELECT c.relnamespace FROM pg_class c WHERE c.oid = o.tgrelid)'],
  ['pg_rewrite', '(SELECT c.relnamespace FROM pg_class c WHERE c.oid = o.ev_class)'],
  ['pg_policy', '(SELECT c.relnamespace FROM pg_class c WHERE c.oid = o.polrelid)'],
]

/**
 * Comments on the object kinds whose schema objects hold no comment of their own (tables,
 * their columns and views do), by catalog address. Kinds a restore cannot comment on again
 * are left out (`COMMENT_KINDS`).
 *
 * pg_identify_object is slow and pg_description holds thousands of comments on built-in
 * objects, so the comments are first narrowed (materialized, so the planner cannot call it
 * first) to those on objects of the catalogs above in the user namespaces: the same namespace
 * the address names, which the final filter still checks.
 */
const SQL_COMMENTS = `WITH described AS MATERIALIZED (
    SELECT d.classoid, d.objoid, d.objsubid, d.description FROM pg_description d
    WHERE (d.classoid, d.objoid) IN (
      SELECT 'pg_namespace'::regclass::oid, n.oid FROM pg_namespace n WHERE ${USER_NAMESPACE}
      ${COMMENTED_CATALOGS.map(
        ([catalog, namespace]) => `UNION ALL SELECT '${catalog}'::regclass::oid, o.oid
        FROM ${catalog} o JOIN pg_namespace n ON n.oid = ${namespace} WHERE ${USER_NAMESPACE}`,
      ).join('\n      ')}))
  SELECT a.type AS kind, a.object_names AS names, a.object_args AS args,
    d.description AS comment
  FROM described d
  CROSS JOIN LATERAL pg_identify_object_as_address(d.classoid, d.objoid, d.objsubid) a
  CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) i
  -- pg_identify_object quotes the schema name where it needs quotes; the address does not.
  JOIN pg_namespace n ON CASE WHEN i.schema IS NULL THEN n.nspname = a.object_names[1]
    ELSE quote_ident(n.nspname) = i.schema END
  WHERE a.type = ANY ($2::text[]) AND ${USER_NAMESPACE}
    AND NOT EXISTS (SELECT 1 FROM pg_depend x
      WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')`

/** Functions, procedures, aggregates and window functions, with what a CREATE AGGREGATE needs. */
const SQL_ROUTINES = `SELECT n.nspname::text AS schema, p.proname::text AS name,
    p.prokind::text AS kind, pg_get_function_identity_arguments(p.oid) AS arguments,
    pg_get_function_result(p.oid) AS returns, l.lanname::text AS language,
    CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
    quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS qualified,
    pg_get_function_arguments(p.oid) AS all_arguments, p.proparallel::text AS parallel,
    ag.aggkind::text AS agg_kind,
    ag.aggtransfn::regproc::text AS sfunc,
    format_type(ag.aggtranstype, NULL) AS stype,
    ag.aggtransspace AS sspace,
    CASE WHEN ag.aggfinalfn::oid <> 0 THEN ag.aggfinalfn::regproc::text END AS finalfunc,
    ag.aggfinalextra AS finalfunc_extra, ag.aggfinalmodify::text AS finalfunc_modify,
    CASE WHEN ag.aggcombinefn::oid <> 0 THEN ag.aggcombinefn::regproc::text END AS combinefunc,
    CASE WHEN ag.aggserialfn::oid <> 0 THEN ag.aggserialfn::regproc::text END AS serialfunc,
    CASE WHEN ag.aggdeserialfn::oid <> 0 THEN ag.aggdeserialfn::regproc::text END AS deserialfunc,
    quote_literal(ag.agginitval) AS initcond,
    CASE WHEN ag.aggmtransfn::oid <> 0 THEN ag.aggmtransfn::regproc::text END AS msfunc,
    CASE WHEN ag.aggminvtransfn::oid <> 0 THEN ag.aggminvtransfn::regproc::text END AS minvfunc,
    CASE WHEN ag.aggmtranstype <> 0 THEN format_type(ag.aggmtranstype, NULL) END AS mstype,
    ag.aggmtransspace AS msspace,
    CASE WHEN ag.aggmfinalfn::oid <> 0 THEN ag.aggmfinalfn::regproc::text END AS mfinalfunc,
    ag.aggmfinalextra AS mfinalfunc_extra, ag.aggmfinalmodify::text AS mfinalfunc_modify,
    quote_literal(ag.aggminitval) AS minitcond,
    CASE WHEN ag.aggsortop <> 0 THEN ag.aggsortop::regoper::text END AS sortop
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
  WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_proc', 'p.oid')}
    -- A range type's constructors come with the type.
    AND NOT EXISTS (SELECT 1 FROM pg_depend x
      WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'i')`

/** Range types, with what differs from their subtype's defaults. */
function sqlRanges(version: number): string {
  const multirange = version >= 140000 ? 'format_type(r.rngmultitypid, NULL)' : 'NULL'
  return `SELECT n.nspname::text AS schema, t.typname::text AS name,
      format_type(r.rngsubtype, NULL) AS subtype,
      CASE WHEN NOT opc.opcdefault THEN
        quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END AS subtype_opclass,
      CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
        THEN ${collationName('r.rngcollation')} END AS collation,
      CASE WHEN r.rngcanonical::oid <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
      CASE WHEN r.rngsubdiff::oid <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
      ${multirange} AS multirange
    FROM pg_range r
    JOIN pg_type t ON t.oid = r.rngtypid
    JOIN pg_namespace n ON n.oid = t.typnamespace
    JOIN pg_type st ON st.oid = r.rngsubtype
    JOIN pg_opclass opc ON opc.oid = r.rngsubopc
    JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
    WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')}`
}

/**
 * Sequences with their current value. pg_sequences gives null for a sequence never called and
 * for one this user may not read; reading it locks each sequence until the transaction ends.
 */
const SQL_SEQUENCES = `SELECT n.nspname::text AS schema, c.relname::text AS name,
    format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
    s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
    s.seqcycle AS cycle, ps.last_value::text AS last_value,
    CASE WHEN s.seqcache <> 1 THEN s.seqcache::text END AS cache,
    o.schema AS owner_schema, o.name AS owner_name, o.column AS owner_column,
    coalesce(o.identity, false) AS identity
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_sequence s ON s.seqrelid = c.oid
  LEFT JOIN pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
  LEFT JOIN LATERAL (
    SELECT tn.nspname::text AS schema, tc.relname::text AS name, ta.attname::text AS column,
           d.deptype = 'i' AS identity
      FROM pg_depend d
      JOIN pg_class tc ON tc.oid = d.refobjid
      JOIN pg_namespace tn ON tn.oid = tc.relnamespace
      JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
       AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
     LIMIT 1) o ON true
  WHERE c.relkind = 'S' AND ${USER_NAMESPACE} AND ${notInExtension('pg_class', 'c.oid')}`

const SQL_ENUMS = `SELECT n.nspname::text AS schema, t.typname::text AS name,
    ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
           ORDER BY e.enumsortorder) AS values
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype = 'e' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')}`

/** Domains; checks only (PostgreSQL 17 also stores a domain's NOT NULL as a constraint). */
const SQL_DOMAINS = `SELECT n.nspname::text AS schema, t.typname::text AS name,
    format_type(t.typbasetype, t.typtypmod) AS base_type, t.typnotnull AS not_null,
    pg_get_expr(t.typdefaultbin, 0) AS default_expr,
    CASE WHEN t.typcollation <> bt.typcollation THEN ${collationName('t.typcollation')} END AS collation,
    coalesce((SELECT json_agg(json_build_object('name', co.conname,
                'definition', pg_get_constraintdef(co.oid)))
              FROM pg_constraint co WHERE co.contypid = t.oid AND co.contype = 'c'), '[]') AS checks
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_type bt ON bt.oid = t.typbasetype
  WHERE t.typtype = 'd' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')}`

/** SQL for an operator's `schema.op`, as CREATE OPERATOR names a commutator or negator. */
function operatorName(oid: string): string {
  return `(SELECT quote_ident(xn.nspname) || '.' || xo.oprname FROM pg_operator xo
    JOIN pg_namespace xn ON xn.oid = xo.oprnamespace WHERE xo.oid = ${oid})`
}

const SQL_OPERATORS = `SELECT n.nspname::text AS schema, o.oprname::text AS name,
    CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END AS left,
    format_type(o.oprright, NULL) AS right, o.oprcode::regproc::text AS function,
    CASE WHEN o.oprcom <> 0 THEN ${operatorName('o.oprcom')} END AS commutator,
    CASE WHEN o.oprnegate <> 0 THEN ${operatorName('o.oprnegate')} END AS negator,
    CASE WHEN o.oprrest::oid <> 0 THEN o.oprrest::regproc::text END AS restrict,
    CASE WHEN o.oprjoin::oid <> 0 THEN o.oprjoin::regproc::text END AS join,
    o.oprcanhash AS hashes, o.oprcanmerge AS merges
  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
  WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_operator', 'o.oid')}`

/** Casts from or to a type of the user namespaces (as pg_dump chooses them), not built in. */
const SQL_CASTS = `SELECT format_type(c.castsource, NULL) AS source,
    format_type(c.casttarget, NULL) AS target,
    CASE c.castmethod WHEN 'f' THEN 'function' WHEN 'i' THEN 'inout' ELSE 'binary' END AS method,
    CASE WHEN c.castfunc <> 0 THEN c.castfunc::regprocedure::text END AS function,
    CASE c.castcontext WHEN 'a' THEN 'assignment' WHEN 'i' THEN 'implicit'
      ELSE 'explicit' END AS context
  FROM pg_cast c
  WHERE c.oid >= 16384 AND ${notInExtension('pg_cast', 'c.oid')}
    -- A range type's casts to its multirange come with the type.
    AND NOT EXISTS (SELECT 1 FROM pg_depend x
      WHERE x.classid = 'pg_cast'::regclass AND x.objid = c.oid AND x.deptype = 'i')
    AND EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.oid IN (c.castsource, c.casttarget) AND ${USER_NAMESPACE})`

/** Text search configurations with their token mappings in token-type order. */
const SQL_TEXT_SEARCH_CONFIGS = `SELECT n.nspname::text AS schema, c.cfgname::text AS name,
    (SELECT CASE WHEN pn.nspname = 'pg_catalog' THEN quote_ident(p.prsname)
              ELSE quote_ident(pn.nspname) || '.' || quote_ident(p.prsname) END
       FROM pg_ts_parser p JOIN pg_namespace pn ON pn.oid = p.prsnamespace
      WHERE p.oid = c.cfgparser) AS parser,
    coalesce((SELECT json_agg(json_build_object('token', t.alias, 'dictionaries', m.dicts)
                ORDER BY m.maptokentype)
              FROM (SELECT maptokentype, array_agg(mapdict::regdictionary::text ORDER BY mapseqno)
                      AS dicts
                      FROM pg_ts_config_map WHERE mapcfg = c.oid GROUP BY maptokentype) m
              JOIN ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype), '[]') AS mappings
  FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
  WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_ts_config', 'c.oid')}`

/** Event triggers (database-wide, like extensions: always reported). */
const SQL_EVENT_TRIGGERS = `SELECT e.evtname::text AS name, e.evtevent::text AS event,
    coalesce(e.evttags, '{}')::text[] AS tags, e.evtfoid::regproc::text AS function,
    e.evtenabled::text AS enabled
  FROM pg_event_trigger e WHERE ${notInExtension('pg_event_trigger', 'e.oid')}`

/** Publications (database-wide), their tables and, from PostgreSQL 15, schemas and filters. */
function sqlPublications(version: number): string {
  const v15 = version >= 150000
  const columns = v15
    ? `CASE WHEN r.prattrs IS NOT NULL THEN ${attributeNames('r.prattrs::int2[]', 'r.prrelid')} END`
    : 'NULL::text[]'
  const where = v15 ? 'pg_get_expr(r.prqual, r.prrelid)' : 'NULL::text'
  const schemas = v15
    ? `ARRAY(SELECT n.nspname::text FROM pg_publication_namespace pn
        JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid ORDER BY 1)`
    : `'{}'::text[]`
  return `SELECT p.pubname::text AS name, p.puballtables AS all_tables,
      p.pubinsert AS insert, p.pubupdate AS update, p.pubdelete AS delete,
      p.pubtruncate AS truncate, p.pubviaroot AS via_root,
      coalesce((SELECT json_agg(json_build_object('schema', n.nspname, 'name', c.relname,
                  'columns', ${columns}, 'where', ${where}) ORDER BY n.nspname, c.relname)
                FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE r.prpubid = p.oid), '[]') AS tables,
      ${schemas} AS schemas
    FROM pg_publication p`
}

const SQL_EXTENSIONS = `SELECT e.extname::text AS name, n.nspname::text AS schema,
    e.extversion AS version
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`

interface ServerRow {
  version: number
  settings: string[]
}

interface TableRow {
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

interface ViewRow {
  oid: string
  schema: string
  name: string
  materialized: boolean
  definition: string
  options: string[]
  populated: boolean
  comment: string | null
}

interface ColumnRow {
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

interface ConstraintRow {
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

interface IndexRow {
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

interface TriggerRow {
  rel: string
  name: string
  definition: string
  enabled: string
  inherited: boolean
}

interface StatisticsRow extends QualifiedName {
  rel: string
  definition: string
  target: number | null
}

interface PolicyRow {
  rel: string
  name: string
  permissive: boolean
  command: string
  roles: string[]
  using_expr: string | null
  check_expr: string | null
}

interface RangeRow extends QualifiedName {
  subtype: string
  subtype_opclass: string | null
  collation: string | null
  canonical: string | null
  subtype_diff: string | null
  multirange: string | null
}

interface EventTriggerRow {
  name: string
  event: string
  tags: string[]
  function: string
  enabled: string
}

interface PublicationRow {
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

interface CollationRow extends QualifiedName {
  provider: 'icu' | 'libc'
  locale: string | null
  lc_collate: string | null
  lc_ctype: string | null
  deterministic: boolean
}

interface RuleRow {
  rel: string
  name: string
  definition: string
  enabled: string
}

interface RoutineRow {
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

interface SequenceRow {
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

interface DomainRow {
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
const TRIGGER_FIRING: Record<string, PgTriggerExtra['firing']> = {
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
const COMMENT_KINDS = [
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

const POLICY_COMMANDS: Record<string, PgPolicy['command']> = {
  '*': 'all',
  r: 'select',
  a: 'insert',
  w: 'update',
  d: 'delete',
}

const AGG_MODIFY: Record<string, string> = { r: 'READ_ONLY', s: 'SHAREABLE', w: 'READ_WRITE' }

/**
 * Reads the schema of the database `client` is connected to.
 *
 * Runs inside the caller's transaction (a snapshot opens `REPEATABLE READ READ ONLY` first, so
 * schema and rows agree) and issues only catalog reads — one per object kind, so the cost does
 * not grow with a round trip per table. Session settings that change how the server prints
 * definitions are pinned for the duration and restored afterwards (see `PINNED_SETTINGS`).
 * Objects of system schemas and members of extensions are left out; every list is sorted by
 * (schema, name) — overloads by arguments — while columns and key columns keep their order.
 *
 * Rejects with a DbsnapError: `ABORTED` when `signal` fires, `SOURCE_CHANGED` when an object
 * disappears between catalog reads, `QUERY_FAILED` for other SQL errors, `CONNECTION_*`
 * when the connection fails.
 *
 * @example
 * await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
 * const schema = await introspectPostgres(client, { signal, schemas: ['public', 'sales'] })
 */
export async function introspectPostgres(
  client: PgQueryable,
  options: IntrospectPostgresOptions = {},
): Promise<DatabaseSchema> {
  const run = async <R>(what: string, sql: string, values: unknown[]): Promise<R[]> => {
    throwIfAborted(options.signal)
    try {
      return (await client.query<R>(sql, values)).rows
    } catch (err) {
      throw introspectionError(err, what, options)
    }
  }
  const names = PINNED_SETTINGS.map(([name]) => name)
  const [server] = await run<ServerRow>('the server version', SQL_SERVER, [names])
  if (server === undefined) {
    throw new DbsnapError('INTERNAL', 'PostgreSQL returned no row for the server version')
  }
  if (server.version < MIN_VERSION_NUM) {
    throw new DbsnapError(
      'QUERY_FAILED',
      `PostgreSQL ${versionText(server.version)} is not supported: DBSnap reads the schema of PostgreSQL 13 or newer`,
      { details: { serverVersionNum: server.version } },
    )
  }
  // Not cancellable: the caller's session gets its own settings back even when aborting.
  const restore = async (): Promise<void> => {
    try {
      await client.query(SQL_SET, [names, server.settings])
    } catch (err) {
      throw introspectionError(err, 'session settings', { ...options, signal: undefined })
    }
  }
  await run('session settings', SQL_SET, [names, PINNED_SETTINGS.map(([, value]) => value)])
  let schema: DatabaseSchema
  try {
    schema = await readSchema(run, server.version, options.schemas ?? null)
  } catch (err) {
    // Usually the transaction is aborted now and its rollback undoes the settings anyway.
    await restore().catch(() => undefined)
    throw err
  }
  await restore()
  return schema
}

type Run = <R>(what: string, sql: string, values: unknown[]) => Promise<R[]>

async function readSchema(
  run: Run,
  version: number,
  schemaFilter: string[] | null,
): Promise<DatabaseSchema> {
  const params = [schemaFilter]
  const schemas = await run<{ name: string }>('schemas', SQL_SCHEMAS, params)
  const tableRows = await run<TableRow>('tables', SQL_TABLES, params)
  const viewRows = await run<ViewRow>('views', SQL_VIEWS, params)
  const compositeRows = await run<{ oid: string } & QualifiedName>(
    'composite types',
    SQL_COMPOSITES,
    params,
  )
  const columnRows = await run<ColumnRow>('columns', SQL_COLUMNS, params)
  const constraintRows = await run<ConstraintRow>('constraints', sqlConstraints(version), params)
  const indexRows = await run<IndexRow>('indexes', sqlIndexes(version), params)
  const triggerRows = await run<TriggerRow>('triggers', SQL_TRIGGERS, params)
  const ruleRows = await run<RuleRow>('rules', SQL_RULES, params)
  const policyRows = await run<PolicyRow>('policies', SQL_POLICIES, params)
  const statisticsRows = await run<StatisticsRow>('statistics objects', SQL_STATISTICS, params)
  const rangeRows = await run<RangeRow>('range types', sqlRanges(version), params)
  const operatorRows = await run<OperatorSchema>('operators', SQL_OPERATORS, params)
  const castRows = await run<CastSchema>('casts', SQL_CASTS, params)
  const textSearchRows = await run<TextSearchConfigSchema>(
    'text search configurations',
    SQL_TEXT_SEARCH_CONFIGS,
    params,
  )
  const collationRows = await run<CollationRow>('collations', sqlCollations(version), params)
  const comments = await run<CommentSchema>('comments', SQL_COMMENTS, [schemaFilter, COMMENT_KINDS])
  const routineRows = await run<RoutineRow>('functions', SQL_ROUTINES, params)
  const sequenceRows = await run<SequenceRow>('sequences', SQL_SEQUENCES, params)
  const enumRows = await run<EnumSchema>('enums', SQL_ENUMS, params)
  const domainRows = await run<DomainRow>('domains', SQL_DOMAINS, params)
  const extensionRows = await run<ExtensionSchema>('extensions', SQL_EXTENSIONS, [])
  const eventTriggerRows = await run<EventTriggerRow>('event triggers', SQL_EVENT_TRIGGERS, [])
  const publicationRows = await run<PublicationRow>('publications', sqlPublications(version), [])

  const tables = new Map<string, { table: TableSchema; extra: PgTableExtra }>()
  for (const row of tableRows) tables.set(row.oid, toTable(row))
  const views = new Map<string, ViewSchema & { triggers: TriggerSchema[] }>()
  for (const row of viewRows) views.set(row.oid, toView(row))
  const composites = new Map<string, CompositeTypeSchema>()
  for (const row of compositeRows) {
    composites.set(row.oid, { schema: row.schema, name: row.name, attributes: [] })
  }

  for (const row of columnRows.sort((a, b) => a.num - b.num)) {
    const table = tables.get(row.rel)?.table
    if (table !== undefined) table.columns.push(toColumn(row))
    views.get(row.rel)?.columns.push({ name: row.name, type: row.type })
    composites.get(row.rel)?.attributes.push({ name: row.name, type: row.type })
  }

  for (const row of constraintRows) {
    const entry = tables.get(row.rel)
    if (entry !== undefined) addConstraint(entry.table, entry.extra, row)
  }

  for (const row of indexRows) {
    const owner = tables.get(row.rel)?.table ?? views.get(row.rel)
    owner?.indexes.push(toIndex(row))
  }

  for (const row of triggerRows) {
    const owner = tables.get(row.rel)?.table ?? views.get(row.rel)
    owner?.triggers.push({
      name: row.name,
      definition: row.definition,
      enabled: row.enabled !== 'D',
      extra: {
        firing: TRIGGER_FIRING[row.enabled] ?? 'origin',
        inherited: row.inherited,
      } satisfies PgTriggerExtra,
    })
  }

  for (const row of ruleRows) {
    const rule: RuleSchema = {
      name: row.name,
      definition: row.definition,
      extra: { firing: TRIGGER_FIRING[row.enabled] ?? 'origin' } satisfies PgRuleExtra,
    }
    const table = tables.get(row.rel)?.table
    if (table !== undefined) table.rules!.push(rule)
    const view = views.get(row.rel)
    // A view gets the list only when it has rules, so a view without any compares equal to
    // one in a snapshot taken before rules were read (views are compared as a whole).
    if (view !== undefined) (view.rules ??= []).push(rule)
  }

  for (const row of policyRows) {
    const extra = tables.get(row.rel)?.extra
    if (extra === undefined) continue
    ;(extra.policies ??= []).push({
      name: row.name,
      permissive: row.permissive,
      command: POLICY_COMMANDS[row.command] ?? 'all',
      roles: row.roles,
      using: row.using_expr,
      check: row.check_expr,
    })
  }

  for (const { rel, target, ...statistics } of statisticsRows) {
    const extra = tables.get(rel)?.extra
    if (extra === undefined) continue
    ;(extra.statistics ??= []).push({ ...statistics, ...(target === null ? {} : { target }) })
  }

  const byName = (a: { name: string }, b: { name: string }): number => compareText(a.name, b.name)
  for (const { table, extra } of tables.values()) {
    table.uniqueKeys.sort(byName)
    table.indexes.sort(byName)
    table.foreignKeys.sort(byName)
    table.checks.sort(byName)
    table.triggers.sort(byName)
    table.rules!.sort(byName)
    extra.exclusionConstraints.sort(byName)
    extra.policies?.sort(byName)
    extra.statistics?.sort(compareQualified)
  }
  for (const view of views.values()) {
    view.indexes.sort(byName)
    view.triggers.sort(byName)
    view.rules?.sort(byName)
  }

  return {
    engine: 'postgres',
    schemas: schemas.map((row) => row.name).sort(compareText),
    tables: [...tables.values()].map((entry) => entry.table).sort(compareQualified),
    views: [...views.values()].sort(compareQualified),
    routines: routineRows.map(toRoutine).sort(compareRoutines),
    sequences: sequenceRows.map(toSequence).sort(compareQualified),
    enums: enumRows
      .map((row) => ({ schema: row.schema, name: row.name, values: row.values }))
      .sort(compareQualified),
    domains: domainRows.map(toDomain).sort(compareQualified),
    compositeTypes: [...composites.values()].sort(compareQualified),
    extensions: extensionRows
      .map((row) => ({ name: row.name, schema: row.schema, version: row.version }))
      .sort(byName),
    rangeTypes: rangeRows
      .map((row): RangeTypeSchema => ({
        schema: row.schema,
        name: row.name,
        subtype: row.subtype,
        subtypeOpclass: row.subtype_opclass,
        collation: row.collation,
        canonical: row.canonical,
        subtypeDiff: row.subtype_diff,
        multirange: row.multirange,
      }))
      .sort(compareQualified),
    collations: collationRows.map(toCollation).sort(compareQualified),
    operators: operatorRows
      .map((row) => ({ ...row }))
      .sort(
        (a, b) =>
          compareQualified(a, b) ||
          compareText(a.left ?? '', b.left ?? '') ||
          compareText(a.right ?? '', b.right ?? ''),
      ),
    casts: castRows
      .map((row) => ({ ...row }))
      .sort((a, b) => compareText(a.source, b.source) || compareText(a.target, b.target)),
    textSearchConfigs: textSearchRows
      .map((row) => ({
        schema: row.schema,
        name: row.name,
        parser: row.parser,
        mappings: row.mappings,
      }))
      .sort(compareQualified),
    eventTriggers: eventTriggerRows
      .map((row): EventTriggerSchema => ({
        name: row.name,
        event: row.event,
        tags: row.tags,
        function: row.function,
        firing: TRIGGER_FIRING[row.enabled] ?? 'origin',
      }))
      .sort(byName),
    publications: publicationRows
      .map((row): PublicationSchema => ({
        name: row.name,
        allTables: row.all_tables,
        publish: (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => row[op]),
        viaPartitionRoot: row.via_root,
        tables: row.tables,
        schemas: row.schemas,
      }))
      .sort(byName),
    comments: comments
      .map((row) => ({ kind: row.kind, names: row.names, args: row.args, comment: row.comment }))
      .sort(
        (a, b) =>
          compareText(a.kind, b.kind) ||
          compareText(a.names.join('.'), b.names.join('.')) ||
          compareText(a.args.join(','), b.args.join(',')),
      ),
  }
}

function toTable(row: TableRow): { table: TableSchema; extra: PgTableExtra } {
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

function toView(row: ViewRow): ViewSchema & { triggers: TriggerSchema[] } {
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

function toColumn(row: ColumnRow): ColumnSchema {
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

function addConstraint(table: TableSchema, extra: PgTableExtra, row: ConstraintRow): void {
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

function toIndex(row: IndexRow): IndexSchema {
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

function toRoutine(row: RoutineRow): RoutineSchema {
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

function toCollation(row: CollationRow): CollationSchema {
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

function toSequence(row: SequenceRow): SequenceSchema {
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

function toDomain(row: DomainRow): DomainSchema {
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

/** Code-unit order: the same on every machine, unlike the database's or the locale's collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareQualified(a: QualifiedName, b: QualifiedName): number {
  return compareText(a.schema, b.schema) || compareText(a.name, b.name)
}

function compareRoutines(a: RoutineSchema, b: RoutineSchema): number {
  return compareQualified(a, b) || compareText(a.arguments, b.arguments)
}

function versionText(num: number): string {
  return num >= 100000
    ? `${Math.floor(num / 10000)}`
    : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}`
}

/** SQLSTATE classes of connection-level failures: connection, authorization, database, operator. */
const CONNECTION_SQLSTATE = /^(08|28|3D|57)/

/**
 * A driver error of one catalog read -> DbsnapError. SQL errors are the query's own
 * (`QUERY_FAILED`; `SOURCE_CHANGED` for the "cache lookup failed" of an object dropped by a
 * concurrent transaction between our snapshot and the server's catalog caches); connection
 * failures map through postgresError when the target is known.
 */
function introspectionError(
  err: unknown,
  what: string,
  options: IntrospectPostgresOptions,
): DbsnapError {
  if (isDbsnapError(err)) return err
  if (options.signal?.aborted === true) return abortError(options.signal)
  const raw = err instanceof Error ? err.message : String(err)
  const message = options.target === undefined ? raw : scrub(raw, options.target)
  const code = (err as { code?: unknown } | null)?.code
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
  const details = { objects: what, ...(sqlstate === undefined ? {} : { sqlstate }) }
  const make = (errorCode: ErrorCode, text: string, retryable: boolean): DbsnapError =>
    new DbsnapError(errorCode, text, { cause: err, retryable, details })
  if (sqlstate === 'XX000' && /cache lookup failed/i.test(raw)) {
    return make(
      'SOURCE_CHANGED',
      `the schema changed while reading ${what} (${message}); try again`,
      true,
    )
  }
  if (sqlstate === '55P03') {
    return make('SOURCE_CHANGED', LOCKED_MESSAGE, true)
  }
  if (sqlstate !== undefined && !CONNECTION_SQLSTATE.test(sqlstate)) {
    return make('QUERY_FAILED', `reading ${what} from PostgreSQL failed: ${message}`, false)
  }
  // node-postgres refuses queries on a client whose connection already failed (the server
  // ended it while idle); that is a lost connection, which postgresError does not know.
  if (/not queryable/i.test(raw)) {
    const where = options.target === undefined ? 'PostgreSQL' : endpoint(options.target)
    return make(
      'CONNECTION_LOST',
      `the connection to ${where} was lost before reading ${what}`,
      true,
    )
  }
  if (options.target !== undefined) {
    return postgresError(err, options.target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  }
  if (/timeout/i.test(raw)) {
    return make('CONNECTION_TIMEOUT', `PostgreSQL did not answer while reading ${what}`, true)
  }
  return make(
    'CONNECTION_LOST',
    `the PostgreSQL connection failed while reading ${what}: ${message}`,
    true,
  )
}
