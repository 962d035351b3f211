// PostgreSQL DDL from a snapshot's normalized schema: the statements a restore (and an SQL
// export) runs, in dependency order, as pure functions so the target adapter and the script agree.
// Here: quoting, the objects a restore needs and their order, COPY; the statements themselves
// are in postgres-ddl-pre-data.ts and postgres-ddl-post-data.ts.

import type { RestoreObjects } from '../target-adapter.js'
import type {
  CollationSchema,
  CompositeTypeSchema,
  DomainSchema,
  QualifiedName,
  RangeTypeSchema,
  RoutineSchema,
  SequenceSchema,
  TableSchema,
  ViewSchema,
} from '../../schema/schema.js'
import type { PgInheritedExtra, PgSequenceExtra, PgTableExtra } from './postgres-schema-extra.js'

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
export function display(object: QualifiedName): string {
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

export const same = (a: QualifiedName, b: QualifiedName): boolean =>
  a.schema === b.schema && a.name === b.name

export const inherited = (extra: unknown): boolean =>
  (extra as PgInheritedExtra | undefined)?.inherited === true

export function tableExtra(table: TableSchema): PgTableExtra {
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
