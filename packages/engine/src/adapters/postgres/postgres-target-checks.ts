// What a PostgreSQL restore checks on the target before it writes: the tables there and what
// depends on them, whether the server is writable and new enough, and the user's privileges.

import type pg from 'pg'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError } from '../../errors.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import { tableKey } from '../../schema/table-name.js'
import type { RestoreMode, RestoreObjects } from '../target-adapter.js'
import { neededObjects, qualifiedName } from './postgres-ddl.js'
import { postgresQueryError } from './postgres-errors.js'
import type { PgKeyExtra } from './postgres-schema-extra.js'

/** A table of the target, as the catalog has it. */
export interface TargetTable {
  oid: string
  kind: string
}

/** What keeps a table from being dropped and created again. */
export interface Dependents {
  /** Foreign keys into it: `restored` when their table is restored too (recreated in finish). */
  foreignKeys: {
    name: string
    table: QualifiedName
    onDelete: string
    deferrable: boolean
    restored: boolean
  }[]
  /** Views reading it, deepest first: `restored` when the restore recreates them. */
  views: { name: QualifiedName; materialized: boolean; restored: boolean }[]
  /** Tables inheriting from it (plain inheritance). */
  children: QualifiedName[]
}

/** True when the table must be kept and its rows replaced instead of dropping it. */
export function keepsTable(dependents: Dependents): boolean {
  return (
    dependents.children.length > 0 ||
    dependents.views.some((view) => !view.restored) ||
    dependents.foreignKeys.some((fk) => !fk.restored)
  )
}

/** The rows a catalog query returns. */
async function queryRows<R = Record<string, unknown>>(
  client: pg.Client,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  return (await client.query(sql, values)).rows as R[]
}

/**
 * A table kept because other objects depend on it can have its rows replaced only if no table
 * outside the restore references it through a key that would change or block on the delete,
 * and if its columns are the snapshot's.
 */
export async function checkReplaceable(
  client: pg.Client,
  table: TableSchema,
  dependents: Dependents,
): Promise<void> {
  const relation = `${table.schema}.${table.name}`
  const blocking = dependents.foreignKeys.filter(
    (fk) => !fk.restored && (fk.onDelete !== 'a' || !fk.deferrable),
  )
  if (blocking.length > 0) {
    const names = blocking.map((fk) => `${fk.name} on ${fk.table.schema}.${fk.table.name}`)
    throw new DbsnapError(
      'RESTORE_FAILED',
      `cannot replace ${relation}: tables not being restored reference it through foreign key ${names.join(', ')}, which would change or block on its rows being replaced; restore those tables too, or make the key DEFERRABLE`,
      { details: { table: relation, foreignKeys: names } },
    )
  }
  const have = await queryRows<{ name: string; type: string }>(
    client,
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0
        AND NOT a.attisdropped ORDER BY a.attnum`,
    [qualifiedName(table)],
  )
  const want = table.columns.map((c) => `${c.name} ${c.type}`).join(', ')
  const got = have.map((c) => `${c.name} ${c.type}`).join(', ')
  if (want !== got) {
    throw new DbsnapError(
      'TARGET_SCHEMA_MISMATCH',
      `cannot replace ${relation}: it must be kept (other objects depend on it) but its columns differ from the snapshot's: expected (${want}), got (${got})`,
      { details: { table: relation } },
    )
  }
}

/** The target's table of this name, or null: `targetTables` of one. */
export async function targetTable(
  client: pg.Client,
  target: ConnectionTarget,
  table: QualifiedName,
): Promise<TargetTable | null> {
  return (await targetTables(client, target, [table])).get(tableKey(table)) ?? null
}

/**
 * The target's tables of these names, in one query whatever their number (a restore looks its
 * tables up several times before writing), keyed by `tableKey`; one the target lacks is absent.
 */
export async function targetTables(
  client: pg.Client,
  target: ConnectionTarget,
  tables: readonly QualifiedName[],
): Promise<Map<string, TargetTable>> {
  const found = new Map<string, TargetTable>()
  if (tables.length === 0) return found
  const rows = await queryRows<TargetTable & QualifiedName>(
    client,
    `SELECT t.schema, t.name, c.oid::text AS oid, c.relkind::text AS kind
       FROM unnest($1::text[], $2::text[]) AS t(schema, name)
       JOIN pg_namespace n ON n.nspname = t.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name
      WHERE c.relkind IN ('r', 'p')`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  ).catch((err: unknown) => {
    throw postgresQueryError(err, target)
  })
  for (const { schema, name, oid, kind } of rows)
    found.set(tableKey({ schema, name }), { oid, kind })
  return found
}

/** Foreign keys, views and inheritance children that a DROP TABLE would have to remove. */
export async function tableDependents(
  client: pg.Client,
  table: TargetTable,
  objects: RestoreObjects | null,
): Promise<Dependents> {
  const restoredTables =
    objects === null ? [] : [...objects.tables, ...neededObjects(objects).parents]
  const isRestored = (name: QualifiedName): boolean =>
    restoredTables.some((t) => t.schema === name.schema && t.name === name.name)
  // A foreign key into a partition is a clone of one into its parent: the root is the one to drop.
  const foreignKeys = await queryRows<{
    name: string
    schema: string
    table: string
    on_delete: string
    deferrable: boolean
  }>(
    client,
    `WITH RECURSIVE up(oid, parent) AS (
       SELECT c.oid, c.conparentid FROM pg_constraint c
        WHERE c.contype = 'f' AND c.confrelid = $1 AND c.conrelid <> $1
       UNION
       SELECT p.oid, p.conparentid FROM up JOIN pg_constraint p ON p.oid = up.parent)
     SELECT DISTINCT c.conname::text AS name, n.nspname::text AS schema, r.relname::text AS table,
            c.confdeltype::text AS on_delete, c.condeferrable AS deferrable
       FROM up JOIN pg_constraint c ON c.oid = up.oid
       JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
      WHERE up.parent = 0`,
    [table.oid],
  )
  const views = await queryRows<{ schema: string; name: string; kind: string; depth: number }>(
    client,
    `WITH RECURSIVE deps(oid, depth) AS (
       SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = $1 AND r.ev_class <> $1
       UNION
       SELECT r.ev_class, deps.depth + 1 FROM deps
         JOIN pg_depend d ON d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass
          AND d.refclassid = 'pg_class'::regclass
         JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> deps.oid AND deps.depth < 50)
     SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
            max(deps.depth) AS depth
       FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
    [table.oid],
  )
  const children = await queryRows<QualifiedName>(
    client,
    `SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_inherits h
       JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE h.inhparent = $1 AND NOT c.relispartition`,
    [table.oid],
  )
  const snapshotViews = objects?.whole === true ? objects.schema.views : []
  return {
    foreignKeys: foreignKeys.map((fk) => {
      const from = { schema: fk.schema, name: fk.table }
      return {
        name: fk.name,
        table: from,
        onDelete: fk.on_delete,
        deferrable: fk.deferrable,
        restored: isRestored(from),
      }
    }),
    views: views.map((view) => ({
      name: { schema: view.schema, name: view.name },
      materialized: view.kind === 'm',
      restored: snapshotViews.some((v) => v.schema === view.schema && v.name === view.name),
    })),
    children,
  }
}

export async function checkWritable(client: pg.Client, target: ConnectionTarget): Promise<void> {
  const [state] = await queryRows<{ standby: boolean; read_only: string }>(
    client,
    `SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS read_only`,
  ).catch((err: unknown) => {
    throw postgresQueryError(err, target)
  })
  if (state?.standby === true || state?.read_only === 'on') {
    throw new DbsnapError(
      'TARGET_READ_ONLY',
      state.standby
        ? `${target.host}:${target.port} is a hot standby (read-only); restore into the primary`
        : `the target database is read-only (default_transaction_read_only is on); nothing was written`,
      { details: { host: target.host, port: target.port } },
    )
  }
}

/** Refuses a server too old for what the snapshot's schema uses. */
export async function checkVersion(client: pg.Client, objects: RestoreObjects): Promise<void> {
  const [row] = await queryRows<{ version: number }>(
    client,
    `SELECT current_setting('server_version_num')::int AS version`,
  )
  const version = row?.version ?? 0
  const lacking: string[] = []
  const tables = objects.tables
  const nullsNotDistinct = tables.some((t) =>
    [t.primaryKey, ...t.uniqueKeys].some(
      (k) => (k?.extra as PgKeyExtra | undefined)?.nullsNotDistinct === true,
    ),
  )
  if (version < 150000 && nullsNotDistinct)
    lacking.push('UNIQUE NULLS NOT DISTINCT (PostgreSQL 15)')
  const multirange = tables.some((t) => t.columns.some((c) => /multirange/.test(c.type)))
  if (version < 140000 && multirange) lacking.push('multirange types (PostgreSQL 14)')
  if (lacking.length > 0) {
    throw new DbsnapError(
      'TARGET_VERSION_UNSUPPORTED',
      `the target PostgreSQL (version ${version}) lacks what the snapshot uses: ${lacking.join(', ')}`,
      { details: { serverVersionNum: version, lacking } },
    )
  }
}

/** Says every privilege the restore lacks at once, before anything is written. */
export async function checkPrivileges(
  client: pg.Client,
  target: ConnectionTarget,
  objects: RestoreObjects,
  mode: RestoreMode,
): Promise<void> {
  const schemas = [
    ...new Set([...neededObjects(objects).schemas, ...objects.tables.map((t) => t.schema)]),
  ]
  const rows = await queryRows<{
    schema: string
    exists: boolean
    create: boolean
    database: boolean
  }>(
    client,
    `SELECT s.name AS schema, n.oid IS NOT NULL AS exists,
            coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS create,
            has_database_privilege(current_database(), 'CREATE') AS database
       FROM unnest($1::text[]) AS s(name) LEFT JOIN pg_namespace n ON n.nspname = s.name`,
    [schemas],
  )
  const missing: string[] = []
  for (const row of rows) {
    if (row.exists && !row.create) missing.push(`CREATE on schema ${row.schema}`)
    if (!row.exists && !row.database)
      missing.push(`CREATE on database (to create schema ${row.schema})`)
  }
  const existing = await targetTables(client, target, objects.tables)
  for (const table of objects.tables) {
    const found = existing.get(tableKey(table))
    if (found === undefined) continue
    const [row] = await queryRows<{
      owner: boolean
      insert: boolean
      update: boolean
      triggers: boolean
    }>(
      client,
      `SELECT pg_has_role(c.relowner, 'USAGE') AS owner,
              has_table_privilege(c.oid, 'INSERT') AS insert,
              has_table_privilege(c.oid, 'UPDATE') AS update,
              EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid
                       AND NOT t.tgisinternal AND t.tgenabled <> 'D') AS triggers
         FROM pg_class c WHERE c.oid = $1`,
      [found.oid],
    )
    const name = `${table.schema}.${table.name}`
    if (mode === 'overwrite' && row?.owner === false)
      missing.push(`ownership of ${name} (to replace it)`)
    if (mode === 'append' && row?.insert === false) missing.push(`INSERT on ${name}`)
    if (mode === 'append' && row?.owner === false && row.triggers)
      missing.push(`ownership of ${name} (to keep its triggers from firing on restored rows)`)
  }
  if (missing.length > 0) {
    throw new DbsnapError(
      'CONNECTION_PRIVILEGE_MISSING',
      `user "${target.user ?? 'the default user'}" lacks what the restore needs: ${missing.join(', ')}`,
      { details: { missing } },
    )
  }
}
