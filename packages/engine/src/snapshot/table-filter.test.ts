import { describe, expect, it } from 'vitest'
import type { TableSchema } from '../schema/schema.js'
import { selectTables } from './table-filter.js'

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

const tables = [
  table('public', 'orders'),
  table('public', 'Order Items'),
  table('sales', 'orders'),
  table('sales', 'a.b'),
  table('public', 'events', { kind: 'partitioned' }),
  table('public', 'events_2025', { partitionOf: { schema: 'public', name: 'events', bound: '' } }),
  table('public', 'events_2026', { partitionOf: { schema: 'public', name: 'events', bound: '' } }),
]
const names = (list: TableSchema[]): string[] => list.map((t) => `${t.schema}.${t.name}`)

describe('selectTables', () => {
  it.each([
    [
      [],
      [],
      [
        'public.orders',
        'public.Order Items',
        'sales.orders',
        'sales.a.b',
        'public.events_2025',
        'public.events_2026',
      ],
    ],
    [['orders'], [], ['public.orders']],
    [['sales.orders'], [], ['sales.orders']],
    [['sales.*'], [], ['sales.orders', 'sales.a.b']],
    [['"sales"."a.b"'], [], ['sales.a.b']],
    [['Order Items'], [], ['public.Order Items']],
    [['events'], [], ['public.events_2025', 'public.events_2026']],
    [['*.*'], ['events', 'sales.*'], ['public.orders', 'public.Order Items']],
    [
      [],
      ['gone_table'],
      [
        'public.orders',
        'public.Order Items',
        'sales.orders',
        'sales.a.b',
        'public.events_2025',
        'public.events_2026',
      ],
    ],
  ])('include %j exclude %j', (include, exclude, expected) => {
    expect(names(selectTables(tables, { include, exclude }))).toEqual(expected)
  })

  it('names an unknown table', () => {
    expect(() => selectTables(tables, { include: ['ordres'] })).toThrow(
      expect.objectContaining({
        code: 'TABLE_NOT_FOUND',
        message: 'no table "ordres" in the database',
      }),
    )
  })

  it.each(['a.b.c', '"open', '.x', ''])('rejects the malformed name %j', (name) => {
    expect(() => selectTables(tables, { include: [name] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})
