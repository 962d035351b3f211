// restorableSchema: what a restore of a snapshot taken with --tables leaves out, and why.
// Definitions are the text each engine prints; names in them are matched in every quoting.

import { describe, expect, it } from 'vitest'
import type { SnapshotManifest, TableEntry } from './manifest.js'
import type { DatabaseSchema, TableSchema, ViewSchema } from '../schema/schema.js'
import { restorableSchema } from './partial-snapshot.js'

const table = (schema: string, name: string, extra: Partial<TableSchema> = {}): TableSchema => ({
  schema,
  name,
  kind: 'table',
  columns: [],
  primaryKey: null,
  uniqueKeys: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  triggers: [],
  partitionOf: null,
  partitionBy: null,
  comment: null,
  estimatedRows: null,
  estimatedBytes: null,
  ...extra,
})

const view = (schema: string, name: string, definition: string): ViewSchema => ({
  schema,
  name,
  materialized: false,
  definition,
  columns: [],
  indexes: [],
})

/** A manifest of `schema` whose snapshot read the tables named in `read`. */
function manifest(schema: Partial<DatabaseSchema>, read: string[]): SnapshotManifest {
  const full: DatabaseSchema = {
    engine: 'postgres',
    schemas: [],
    tables: [],
    views: [],
    routines: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    extensions: [],
    ...schema,
  }
  const entries = full.tables
    .filter((t) => read.includes(t.name))
    .map((t) => ({ schema: t.schema, name: t.name }) as TableEntry)
  return { schema: full, tables: entries } as SnapshotManifest
}

const fk = (name: string, schema: string, references: string): TableSchema['foreignKeys'][0] => ({
  name,
  columns: ['x'],
  references: { schema, name: references, columns: ['id'] },
  onUpdate: 'no action',
  onDelete: 'no action',
  deferrable: false,
  initiallyDeferred: false,
  definition: '',
})

describe('restorableSchema', () => {
  it('gives a snapshot of every table back as it is', () => {
    const m = manifest(
      { tables: [table('public', 'a')], views: [view('public', 'v', 'SELECT 1 FROM public.a')] },
      ['a'],
    )
    expect(restorableSchema(m)).toEqual({ schema: m.schema, leftOut: [] })
  })

  it('leaves out what names a PostgreSQL table not read, in any quoting, views of views too', () => {
    const m = manifest(
      {
        tables: [
          table('public', 'film'),
          table('public', 'rental'),
          table('x.y', 'Z'),
          table('public', 'payment', {
            foreignKeys: [
              fk('to_rental', 'public', 'rental'),
              fk('to_film', 'public', 'film'),
              fk('to_other_database', 'elsewhere', 'rental'),
            ],
          }),
        ],
        views: [
          view('public', 'keeps', 'SELECT f.rental FROM public.film f'),
          view('public', 'reads_rental', 'SELECT r.id FROM public.rental r'),
          view('public', 'reads_quoted', 'SELECT 1 FROM "x.y"."Z"'),
          view('public', 'reads_view', 'SELECT * FROM public.reads_rental'),
        ],
      },
      ['film', 'payment'],
    )
    const { schema, leftOut } = restorableSchema(m)
    expect(schema.tables.map((t) => t.name)).toEqual(['film', 'payment'])
    expect(schema.tables[1]!.foreignKeys.map((k) => k.name)).toEqual([
      'to_film',
      'to_other_database',
    ])
    expect(schema.views.map((v) => v.name)).toEqual(['keeps'])
    expect(leftOut).toEqual([
      'foreign key to_rental of public.payment left out: the snapshot does not hold public.rental, which it needs',
      'view public.reads_rental left out: the snapshot does not hold public.rental, which it needs',
      'view public.reads_quoted left out: the snapshot does not hold "x.y".Z, which it needs',
      'view public.reads_view left out: the snapshot does not hold public.reads_rental, which it needs',
    ])
  })

  it('keeps the partitioned parents of the partitions read', () => {
    const parent = { schema: 'public', name: 'events', bound: '' }
    const m = manifest(
      {
        tables: [
          table('public', 'events', { kind: 'partitioned' }),
          table('public', 'events_1', { partitionOf: parent }),
          table('public', 'other', { kind: 'partitioned' }),
        ],
      },
      ['events_1'],
    )
    expect(restorableSchema(m).schema.tables.map((t) => t.name)).toEqual(['events', 'events_1'])
  })

  it('reads MySQL backquotes and MongoDB view sources', () => {
    const m = manifest(
      {
        engine: 'mysql',
        tables: [
          table('', 'film', {
            triggers: [
              {
                name: 'log',
                definition:
                  'CREATE TRIGGER `log` AFTER INSERT ON `film` FOR EACH ROW DELETE FROM `rental`',
                enabled: true,
              },
              {
                name: 'fine',
                definition:
                  'CREATE TRIGGER `fine` BEFORE INSERT ON `film` FOR EACH ROW SET NEW.rental = 1',
                enabled: true,
              },
            ],
          }),
          table('', 'rental'),
        ],
        views: [
          view('', 'v', 'select `r`.`id` AS `id` from (`rental` `r` join `film`)'),
          view('', 'docs', '{"viewOn":"rental","pipeline":[]}'),
        ],
      },
      ['film'],
    )
    const { schema, leftOut } = restorableSchema(m)
    expect(schema.tables[0]!.triggers.map((t) => t.name)).toEqual(['fine'])
    expect(schema.views).toEqual([])
    expect(leftOut).toHaveLength(3)
  })
})
