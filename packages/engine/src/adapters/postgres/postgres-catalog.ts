// The catalogue queries PostgreSQL introspection runs, one per object kind (SQL text only; the
// shapes of their rows and the mapping to the normalized schema are in postgres-schema-map.ts).

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

export const SQL_SERVER = `SELECT pg_catalog.current_setting('server_version_num')::int AS version,
  ARRAY(SELECT pg_catalog.current_setting(s.name) FROM pg_catalog.unnest($1::text[])
    WITH ORDINALITY AS s(name, ord) ORDER BY s.ord) AS settings`

export const SQL_SET = `SELECT pg_catalog.set_config(s.name, s.value, false)
  FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(name, value)`

export const SQL_SCHEMAS = `SELECT n.nspname::text AS name FROM pg_namespace n
  WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_namespace', 'n.oid')}`

export const SQL_TABLES = `SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name,
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

export const SQL_VIEWS = `SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name,
    c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS definition,
    coalesce(c.reloptions, '{}')::text[] AS options, c.relispopulated AS populated,
    d.description AS comment
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_description d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
  WHERE c.relkind IN ('v', 'm') AND ${USER_NAMESPACE} AND ${notInExtension('pg_class', 'c.oid')}`

export const SQL_COMPOSITES = `SELECT c.oid::text AS oid, n.nspname::text AS schema, t.typname::text AS name
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
  WHERE t.typtype = 'c' AND c.relkind = 'c' AND ${USER_NAMESPACE}
    AND ${notInExtension('pg_type', 't.oid')} AND ${notInExtension('pg_class', 'c.oid')}`

/**
 * Columns of every relation in the user namespaces (tables, views, composite types); those of
 * relations not reported (extension members) are dropped when attached. Domains over domains
 * are followed to the base type, which decides the canonical encoding.
 */
export const SQL_COLUMNS = `WITH RECURSIVE domain_chain(oid, base) AS (
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
export function sqlConstraints(version: number): string {
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
export function sqlIndexes(version: number): string {
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
export const SQL_TRIGGERS = `SELECT t.tgrelid::text AS rel, t.tgname::text AS name,
    pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled,
    t.tgparentid <> 0 AS inherited
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p', 'v') AND ${USER_NAMESPACE}`

/** Rewrite rules of tables and views, but a view's own `_RETURN` rule (its query). */
export const SQL_RULES = `SELECT r.ev_class::text AS rel, r.rulename::text AS name,
    pg_get_ruledef(r.oid) AS definition, r.ev_enabled::text AS enabled
  FROM pg_rewrite r
  JOIN pg_class c ON c.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p', 'v', 'm') AND ${USER_NAMESPACE}`

/** Row-level security policies of tables. */
export const SQL_POLICIES = `SELECT p.polrelid::text AS rel, p.polname::text AS name,
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
export const SQL_STATISTICS = `SELECT s.stxrelid::text AS rel, n.nspname::text AS schema,
    s.stxname::text AS name, pg_get_statisticsobjdef(s.oid) AS definition,
    CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget END AS target
  FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
  WHERE ${USER_NAMESPACE}`

/** Collations created in the user namespaces (the ICU locale column was renamed in 17). */
export function sqlCollations(version: number): string {
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
export const SQL_COMMENTS = `WITH described AS MATERIALIZED (
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
export const SQL_ROUTINES = `SELECT n.nspname::text AS schema, p.proname::text AS name,
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
export function sqlRanges(version: number): string {
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
export const SQL_SEQUENCES = `SELECT n.nspname::text AS schema, c.relname::text AS name,
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

export const SQL_ENUMS = `SELECT n.nspname::text AS schema, t.typname::text AS name,
    ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
           ORDER BY e.enumsortorder) AS values
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype = 'e' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')}`

/** Domains; checks only (PostgreSQL 17 also stores a domain's NOT NULL as a constraint). */
export const SQL_DOMAINS = `SELECT n.nspname::text AS schema, t.typname::text AS name,
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

export const SQL_OPERATORS = `SELECT n.nspname::text AS schema, o.oprname::text AS name,
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
export const SQL_CASTS = `SELECT format_type(c.castsource, NULL) AS source,
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
export const SQL_TEXT_SEARCH_CONFIGS = `SELECT n.nspname::text AS schema, c.cfgname::text AS name,
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
export const SQL_EVENT_TRIGGERS = `SELECT e.evtname::text AS name, e.evtevent::text AS event,
    coalesce(e.evttags, '{}')::text[] AS tags, e.evtfoid::regproc::text AS function,
    e.evtenabled::text AS enabled
  FROM pg_event_trigger e WHERE ${notInExtension('pg_event_trigger', 'e.oid')}`

/** Publications (database-wide), their tables and, from PostgreSQL 15, schemas and filters. */
export function sqlPublications(version: number): string {
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

export const SQL_EXTENSIONS = `SELECT e.extname::text AS name, n.nspname::text AS schema,
    e.extversion AS version
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`
