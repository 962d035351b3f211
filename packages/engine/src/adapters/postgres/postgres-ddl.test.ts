import { describe, expect, it } from 'vitest'
import type {
  ColumnSchema,
  DatabaseSchema,
  SequenceSchema,
  TableSchema,
} from '../../schema/schema.js'
import { afterDataStatements, setvalStatement } from './postgres-ddl-post-data.js'
import { createTableStatements } from './postgres-ddl-pre-data.js'
import { mentions, neededObjects, quoteIdent, quoteLiteral } from './postgres-ddl.js'

const column = (name: string, type: string, more: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  type,
  encoding: 'text',
  nullable: true,
  default: null,
  generated: null,
  identity: null,
  collation: null,
  ...more,
})

const table = (name: string, more: Partial<TableSchema> = {}): TableSchema => ({
  schema: 'public',
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
  ...more,
})

const sequence = (name: string, more: Partial<SequenceSchema> = {}): SequenceSchema => ({
  schema: 'public',
  name,
  type: 'integer',
  start: '1',
  increment: '1',
  min: '1',
  max: '2147483647',
  cycle: false,
  lastValue: null,
  ownedBy: null,
  extra: { identity: false },
  ...more,
})

const orders = table('orders', {
  columns: [
    column('id', 'bigint', {
      encoding: 'bigint',
      nullable: false,
      identity: 'always',
    }),
    column('status', 'public.mood'),
    column('code', 'public.short_code'),
    column('ticket', 'integer', { default: "nextval('public.ticket_seq'::regclass)" }),
    column('name', 'text', { collation: '"C"', comment: "it's" }),
    column('total', 'numeric', { generated: '(id * 2)' }),
  ],
})

const schema: DatabaseSchema = {
  engine: 'postgres',
  schemas: ['public', 'other'],
  tables: [orders, table('unrelated', { schema: 'other' })],
  views: [],
  routines: [
    {
      schema: 'public',
      name: 'unused',
      kind: 'function',
      arguments: '',
      returns: 'integer',
      language: 'sql',
      definition: 'CREATE OR REPLACE FUNCTION public.unused() …',
    },
  ],
  sequences: [
    sequence('orders_id_seq', {
      type: 'bigint',
      start: '1000',
      max: '9223372036854775807',
      lastValue: '1002',
      ownedBy: { schema: 'public', name: 'orders', column: 'id' },
      extra: { identity: true },
    }),
    sequence('ticket_seq', { start: '100', increment: '5' }),
    sequence('unused_seq'),
  ],
  enums: [
    { schema: 'public', name: 'mood', values: ['sad', "it's ok"] },
    { schema: 'public', name: 'other_enum', values: ['x'] },
  ],
  domains: [
    {
      schema: 'public',
      name: 'short_code',
      baseType: 'public.base_code',
      nullable: false,
      default: null,
      checks: [],
      collation: null,
    },
    {
      schema: 'public',
      name: 'base_code',
      baseType: 'character varying(8)',
      nullable: true,
      default: null,
      checks: [],
      collation: null,
    },
  ],
  compositeTypes: [],
  extensions: [],
}

describe('quoting', () => {
  it.each([
    ['plain', '"plain"'],
    ['Has "quotes"', '"Has ""quotes"""'],
    ['ünï code', '"ünï code"'],
  ])('quoteIdent(%j)', (name, quoted) => expect(quoteIdent(name)).toBe(quoted))

  it('quoteLiteral doubles single quotes only', () => {
    expect(quoteLiteral("it's a \\ b")).toBe("'it''s a \\ b'")
  })
})

describe('mentions', () => {
  const mood = { schema: 'public', name: 'mood' }
  it.each([
    ['public.mood', true],
    ['public.mood[]', true],
    ["'sad'::public.mood", true],
    ['public.moods', false],
    ['xpublic.mood', false],
    ['"public"."mood"', true],
    ['public."mood"', true],
    ['public.moodé', false],
  ])('%j names public.mood: %s', (text, expected) => expect(mentions(text, mood)).toBe(expected))

  it('finds names that need quoting as PostgreSQL prints them', () => {
    expect(mentions('"Ünï Schema"."T 1"[]', { schema: 'Ünï Schema', name: 'T 1' })).toBe(true)
  })
})

describe('neededObjects', () => {
  it('a partial restore takes only what the tables name, types followed through domains', () => {
    const needed = neededObjects({ schema, tables: [orders], whole: false })
    expect(needed.enums.map((e) => e.name)).toEqual(['mood'])
    expect(needed.types.map((t) => t.type.name)).toEqual(['base_code', 'short_code'])
    expect(needed.sequences.map((s) => s.name)).toEqual(['ticket_seq'])
    expect(needed.routines).toEqual([])
    expect(needed.schemas).toEqual(['public'])
  })

  it('a whole restore takes everything, domains after the domains they use', () => {
    const needed = neededObjects({ schema, tables: [orders], whole: true })
    expect(needed.types.map((t) => t.type.name)).toEqual(['base_code', 'short_code'])
    expect(needed.sequences.map((s) => s.name)).toEqual(['ticket_seq', 'unused_seq'])
    expect(needed.routines).toHaveLength(1)
  })
})

describe('createTableStatements', () => {
  it('spells identity, generated, collation, defaults and comments', () => {
    const sql = createTableStatements(orders, schema.sequences).map((s) => s.sql)
    expect(sql[0]).toBe(
      'CREATE TABLE "public"."orders" (' +
        '"id" bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "public"."orders_id_seq" START WITH 1000 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE) NOT NULL, ' +
        '"status" public.mood, "code" public.short_code, ' +
        `"ticket" integer DEFAULT nextval('public.ticket_seq'::regclass), ` +
        '"name" text COLLATE "C", "total" numeric GENERATED ALWAYS AS ((id * 2)) STORED)',
    )
    expect(sql).toContain(`COMMENT ON COLUMN "public"."orders"."name" IS 'it''s'`)
  })

  it('creates the sequences a serial column owns first, and gives them their owner after', () => {
    const log = table('log', { columns: [column('seq', 'integer')] })
    const owned = sequence('log_seq_seq', {
      ownedBy: { schema: 'public', name: 'log', column: 'seq' },
    })
    const sql = createTableStatements(log, [owned]).map((s) => s.sql)
    expect(sql[0]).toMatch(/^CREATE SEQUENCE IF NOT EXISTS "public"."log_seq_seq" AS integer/)
    expect(sql[2]).toBe('ALTER SEQUENCE "public"."log_seq_seq" OWNED BY "public"."log"."seq"')
  })

  it('creates a partition on its own and attaches it after its indexes', () => {
    const partition = table('m_2024', {
      columns: [column('d', 'date')],
      partitionOf: {
        schema: 'public',
        name: 'm',
        bound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
      },
      indexes: [
        {
          name: 'm_2024_d_idx',
          unique: false,
          method: 'btree',
          columns: ['d'],
          predicate: null,
          definition: 'CREATE INDEX m_2024_d_idx ON public.m_2024 USING btree (d)',
          constraint: false,
          extra: { include: [], nullsNotDistinct: false, valid: true, parent: null },
        },
      ],
    })
    expect(createTableStatements(partition, [])[0]?.sql).toBe(
      'CREATE TABLE "public"."m_2024" ("d" date)',
    )
    expect(afterDataStatements(partition).map((s) => s.sql)).toEqual([
      'CREATE INDEX m_2024_d_idx ON public.m_2024 USING btree (d)',
      `ALTER TABLE "public"."m" ATTACH PARTITION "public"."m_2024" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
    ])
  })
})

describe('setvalStatement', () => {
  it('sets a called sequence to its last value, resets one never called', () => {
    expect(setvalStatement(sequence('s', { lastValue: '42' })).sql).toBe(
      `SELECT pg_catalog.setval('"public"."s"', 42, true)`,
    )
    expect(setvalStatement(sequence('s', { start: '-10' })).sql).toBe(
      `SELECT pg_catalog.setval('"public"."s"', -10, false)`,
    )
  })
})
