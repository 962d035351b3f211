// Schema diff: every object kind of the normalized schema, matched by identity (kind + name),
// compared by definition. A rename is reported only on solid evidence: exactly one object of a
// kind removed and one added, with the same definition but the name; otherwise remove + add.

import { definitionJson } from '../schema/definition-json.js'
import { tableName } from '../schema/table-name.js'
import type { ColumnSchema, DatabaseSchema, QualifiedName, TableSchema } from '../schema/schema.js'
import type { SchemaChange, SchemaObjectKind } from './diff-format.js'

/** The changes that turn schema `a` into schema `b`, schema-level objects first. */
export function diffSchemas(a: DatabaseSchema, b: DatabaseSchema): SchemaChange[] {
  const changes: SchemaChange[] = []
  changes.push(
    ...diffSet(
      'schema',
      a.schemas.map((name) => ({ name })),
      b.schemas.map((name) => ({ name })),
      (s) => s.name,
    ),
  )
  changes.push(...diffNamed('extension', a.extensions, b.extensions, (e) => e.name))
  changes.push(...diffNamed('enum', a.enums, b.enums, qualified))
  changes.push(...diffNamed('domain', a.domains, b.domains, qualified))
  changes.push(...diffNamed('composite type', a.compositeTypes, b.compositeTypes, qualified))
  changes.push(...diffNamed('range type', a.rangeTypes ?? [], b.rangeTypes ?? [], qualified))
  changes.push(...diffNamed('sequence', a.sequences, b.sequences, qualified))
  changes.push(...diffTables(a.tables, b.tables))
  changes.push(...diffNamed('view', a.views, b.views, qualified))
  changes.push(
    ...diffNamed('routine', a.routines, b.routines, (r) => `${qualified(r)}(${r.arguments})`),
  )
  changes.push(...diffNamed('event', a.events ?? [], b.events ?? [], qualified))
  changes.push(...diffNamed('collation', a.collations ?? [], b.collations ?? [], qualified))
  changes.push(
    ...diffNamed(
      'operator',
      a.operators ?? [],
      b.operators ?? [],
      (o) => `${qualified(o)}(${o.left ?? 'NONE'}, ${o.right ?? 'NONE'})`,
    ),
  )
  changes.push(
    ...diffNamed('cast', a.casts ?? [], b.casts ?? [], (c) => `${c.source} AS ${c.target}`),
  )
  changes.push(
    ...diffNamed(
      'text search configuration',
      a.textSearchConfigs ?? [],
      b.textSearchConfigs ?? [],
      qualified,
    ),
  )
  const named = (object: { name: string }): string => object.name
  changes.push(...diffNamed('event trigger', a.eventTriggers ?? [], b.eventTriggers ?? [], named))
  changes.push(...diffNamed('publication', a.publications ?? [], b.publications ?? [], named))
  changes.push(
    ...diffNamed(
      'comment',
      a.comments ?? [],
      b.comments ?? [],
      (c) => `${c.kind} ${c.names.join('.')}${c.args.length > 0 ? `(${c.args.join(', ')})` : ''}`,
      { renames: false },
    ),
  )
  return changes
}

/** `schema.name`, or `name` where the engine has no schemas, quoted so no two objects match. */
export function qualified(object: QualifiedName): string {
  return tableName(object)
}

function diffTables(a: TableSchema[], b: TableSchema[]): SchemaChange[] {
  // A table renamed keeps its columns and key; its indexes and constraints name it, so those
  // are left out of the evidence.
  const changes = diffNamed('table', a, b, qualified, {
    compare: false,
    normalize: (t) => ({ kind: t.kind, columns: t.columns, key: t.primaryKey?.columns ?? null }),
  })
  const before = new Map(a.map((t) => [qualified(t), t]))
  for (const after of b) {
    const name = qualified(after)
    const old = before.get(name)
    if (old !== undefined) changes.push(...diffTable(old, after))
  }
  return changes
}

/** The changes inside one table that exists on both sides. */
function diffTable(a: TableSchema, b: TableSchema): SchemaChange[] {
  const table = qualified(b)
  const inTable = (change: SchemaChange): SchemaChange => ({ ...change, table })
  const member = (name: string): string => `${table}.${name}`
  const changes: SchemaChange[] = [
    ...diffNamed('column', a.columns, b.columns, (c) => member(c.name), {
      normalize: columnDefinition,
    }),
    ...diffSingle('primary key', table, a.primaryKey, b.primaryKey),
    ...diffNamed('unique key', a.uniqueKeys, b.uniqueKeys, (k) => member(k.name)),
    ...diffNamed('index', a.indexes, b.indexes, (i) => member(i.name)),
    ...diffNamed('foreign key', a.foreignKeys, b.foreignKeys, (f) => member(f.name)),
    ...diffNamed('check', a.checks, b.checks, (c) => member(c.name)),
    ...diffNamed('trigger', a.triggers, b.triggers, (t) => member(t.name)),
    ...diffNamed('rule', a.rules ?? [], b.rules ?? [], (r) => member(r.name)),
    ...diffSingle('replica identity', table, replicaIdentity(a), replicaIdentity(b)),
  ]
  const options = (t: TableSchema): unknown => {
    // Reported on its own (above), not as a table option.
    const { replicaIdentity: _identity, ...extra } = t.extra ?? {}
    return {
      kind: t.kind,
      partitionOf: t.partitionOf,
      partitionBy: t.partitionBy,
      comment: t.comment,
      extra: t.extra === undefined ? null : extra,
    }
  }
  if (!sameDefinition(options(a), options(b))) {
    changes.push({
      kind: 'table options',
      change: 'changed',
      object: table,
      old: options(a),
      new: options(b),
    })
  }
  return changes.map(inTable)
}

/** A table's replica identity (PostgreSQL) when not the default, else null. */
function replicaIdentity(table: TableSchema): unknown {
  return table.extra?.replicaIdentity ?? null
}

/** What defines a column; its position counts too, so a reordering shows. */
function columnDefinition(column: ColumnSchema): unknown {
  const { name: _name, ...definition } = column
  return definition
}

function diffSingle<T>(
  kind: SchemaObjectKind,
  object: string,
  a: T | null,
  b: T | null,
): SchemaChange[] {
  if (a === null && b === null) return []
  if (a === null) return [{ kind, change: 'added', object, new: b }]
  if (b === null) return [{ kind, change: 'removed', object, old: a }]
  return sameDefinition(a, b) ? [] : [{ kind, change: 'changed', object, old: a, new: b }]
}

/** Objects compared by name only (schemas): added or removed. */
function diffSet<T extends object>(
  kind: SchemaObjectKind,
  a: T[],
  b: T[],
  nameOf: (item: T) => string,
): SchemaChange[] {
  return diffNamed(kind, a, b, nameOf, { compare: false, renames: false })
}

/**
 * Matches objects by name: removed, added, changed (definition differs), and renamed when the
 * only removed and the only added object have the same definition apart from the name.
 */
function diffNamed<T extends object>(
  kind: SchemaObjectKind,
  a: T[],
  b: T[],
  nameOf: (item: T) => string,
  options: { compare?: boolean; renames?: boolean; normalize?: (item: T) => unknown } = {},
): SchemaChange[] {
  const { compare = true, renames = true } = options
  const normalize = options.normalize ?? withoutName
  const before = new Map(a.map((item) => [nameOf(item), item]))
  const after = new Map(b.map((item) => [nameOf(item), item]))
  const removed = [...before].filter(([name]) => !after.has(name))
  const added = [...after].filter(([name]) => !before.has(name))
  const changes: SchemaChange[] = []
  const [onlyRemoved] = removed
  const [onlyAdded] = added
  if (
    renames &&
    removed.length === 1 &&
    added.length === 1 &&
    onlyRemoved !== undefined &&
    onlyAdded !== undefined &&
    sameDefinition(normalize(onlyRemoved[1]), normalize(onlyAdded[1]))
  ) {
    changes.push({
      kind,
      change: 'renamed',
      object: onlyAdded[0],
      from: onlyRemoved[0],
      old: onlyRemoved[1],
      new: onlyAdded[1],
    })
  } else {
    for (const [name, item] of removed)
      changes.push({ kind, change: 'removed', object: name, old: item })
    for (const [name, item] of added)
      changes.push({ kind, change: 'added', object: name, new: item })
  }
  if (compare) {
    for (const [name, old] of before) {
      const now = after.get(name)
      if (now !== undefined && !sameDefinition(old, now)) {
        changes.push({ kind, change: 'changed', object: name, old, new: now })
      }
    }
  }
  return changes
}

/** An object's definition without its name (and schema), for rename detection. */
function withoutName(item: object): unknown {
  const { name: _name, schema: _schema, ...rest } = item as Record<string, unknown>
  return rest
}

/** Deep equality of definitions, ignoring volatile facts and key order. */
export function sameDefinition(a: unknown, b: unknown): boolean {
  return definitionJson(a) === definitionJson(b)
}
