import { describe, expect, it } from 'vitest'
import type { TableSchema } from './schema.js'
import { tableKey, tableName } from './table-name.js'
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

  it.each([
    ['x.y', 'z'],
    ['x', 'y.z'],
    ['public', '*'],
    ['public', 'we"ird'],
    ['public', 'a,b'],
    ['public', ' pad '],
    ['s?', 'Mixed Case'],
    ['', 'a.b'],
  ])('selects table %j.%j by the name tableName gives it, and no other', (schema, name) => {
    const all = [
      ...tables,
      table('x.y', 'z'),
      table('x', 'y.z'),
      table('public', '*'),
      table('public', 'we"ird'),
      table('public', 'a,b'),
      table('public', ' pad '),
      table('s?', 'Mixed Case'),
      table('', 'a.b'),
      table('a', 'b'),
    ]
    const wanted = { schema, name }
    const defaultSchema = schema === '' ? '' : 'public'
    expect(
      selectTables(all, { include: [tableName(wanted)], defaultSchema }).map(tableKey),
    ).toEqual([tableKey(wanted)])
  })

  it.each([
    ['"x.y".z', 'x.y', 'z'],
    ['x."y.z"', 'x', 'y.z'],
    ['public.z', 'public', 'z'],
    ['"we""ird"', '', 'we"ird'],
  ])('tableName(%j) is the display form', (text, schema, name) => {
    expect(tableName({ schema, name })).toBe(text)
  })

  it('selects a table given as schema and name as that table only, whatever its name holds', () => {
    const all = [...tables, table('public', '*'), table('public', 'a.b')]
    expect(names(selectTables(all, { include: [{ schema: 'public', name: '*' }] }))).toEqual([
      'public.*',
    ])
    expect(names(selectTables(all, { include: [{ schema: 'public', name: 'a.b' }] }))).toEqual([
      'public.a.b',
    ])
  })

  it('takes several patterns separated by commas outside double quotes', () => {
    const all = [...tables, table('public', 'a,b')]
    expect(names(selectTables(all, { include: ['orders, sales.orders', '"a,b"'] }))).toEqual([
      'public.orders',
      'sales.orders',
      'public.a,b',
    ])
  })

  it('refuses a glob that matches nothing, as an unknown name', () => {
    expect(() => selectTables(tables, { include: ['zzz*'] })).toThrow(
      expect.objectContaining({
        code: 'TABLE_NOT_FOUND',
        message: 'no table matches "zzz*" in the database',
      }),
    )
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
