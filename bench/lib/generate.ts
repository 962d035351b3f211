// The seeded data generator: realistic mixed-type rows computed in SQL from the row number i
// alone (generate_series + hashint8extended), so every run of every bench sees the same data.

import { psql, tableSize } from './postgres.ts'
import { progress } from './results.ts'

/** Ids are i × ID_STEP, leaving gaps where benches insert rows between existing ones. */
export const ID_STEP = 10

const WORDS = [
  'order',
  'invoice',
  'shipping',
  'delivery',
  'customer',
  'account',
  'payment',
  'refund',
  'discount',
  'coupon',
  'express',
  'standard',
  'warehouse',
  'berlin',
  'paris',
  'lisbon',
  'tokyo',
  'austin',
  'toronto',
  'madrid',
  'oslo',
  'blue',
  'green',
  'large',
  'small',
  'cotton',
  'leather',
  'wooden',
  'steel',
  'premium',
  'basic',
  'annual',
  'monthly',
  'trial',
  'gift',
  'wrap',
  'fragile',
  'returned',
  'pending',
  'shipped',
  'cancelled',
  'review',
  'excellent',
  'poor',
  'fast',
  'late',
  'packaging',
  'damaged',
  'replacement',
  'support',
  'ticket',
  'email',
  'phone',
  'chat',
  'priority',
  'note',
  'alice',
  'bruno',
  'chen',
  'dmitri',
  'elena',
  'farah',
  'gómez',
  'hélène',
]
const PLANS = ['free', 'team', 'business', 'enterprise']

/** `w[1 + ((h >> shift) & 63)]`: a word drawn from 6 bits of hash h. */
function word(h: string, shift: number): string {
  return `w[1 + ((${h} >> ${shift}) & 63)]`
}

/** 10 words from one hash, space-separated. */
function sentence(h: string): string {
  return Array.from({ length: 10 }, (_, k) => word(h, k * 6)).join(` || ' ' || `)
}

export function createTableSql(table: string): string {
  return `CREATE TABLE ${table} (
    id bigint NOT NULL,
    customer text NOT NULL,
    email text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL,
    active boolean NOT NULL,
    description text NOT NULL,
    attrs jsonb NOT NULL,
    note text
  )`
}

/**
 * Inserts the rows of numbers `from`..`to` whose `where` (over i) holds, with id
 * i × ID_STEP + `idOffset`. Descriptions run from 16 to 143 characters, 1 row in 64 has one
 * about 1 KiB long; `note` is NULL in 1 row in 4.
 */
export function insertRowsSql(
  table: string,
  from: number,
  to: number,
  idOffset = 0,
  where = 'true',
): string {
  const words = `ARRAY[${WORDS.map((w) => `'${w}'`).join(', ')}]`
  const plans = `ARRAY[${PLANS.map((p) => `'${p}'`).join(', ')}]`
  return `INSERT INTO ${table}
SELECT i * ${ID_STEP} + ${idOffset},
  initcap(${word('h1', 0)}) || ' ' || initcap(${word('h1', 6)}),
  ${word('h1', 12)} || '.' || ${word('h1', 18)} || (i % 997) || '@example.com',
  (h2 & 1048575) / 100.0,
  timestamptz '2024-01-01 00:00:00+00' + i * interval '7 seconds'
    + ((h2 >> 20) & 1023) * interval '1 millisecond',
  ((h2 >> 30) & 3) <> 0,
  CASE WHEN ((h1 >> 31) & 63) = 0
       THEN repeat(${sentence('h3')} || ' ' || ${sentence('h4')} || '. ', 7)
       ELSE left(${sentence('h3')} || ' ' || ${sentence('h4')}, 16 + ((h1 >> 24) & 127)::int) END,
  jsonb_build_object('plan', p[1 + ((h2 >> 32) & 3)], 'seats', (h2 >> 34) & 63,
    'tags', jsonb_build_array(${word('h2', 40)}, ${word('h2', 46)}), 'trial', ((h2 >> 52) & 1) = 1),
  CASE WHEN ((h1 >> 37) & 3) = 0 THEN NULL ELSE ${word('h1', 40)} || ' ' || ${word('h1', 46)} END
FROM generate_series(${from}::bigint, ${to}::bigint) AS i,
  LATERAL (SELECT hashint8extended(i, 1) AS h1, hashint8extended(i, 2) AS h2,
                  hashint8extended(i, 3) AS h3, hashint8extended(i, 4) AS h4) AS h,
  (SELECT ${words} AS w, ${plans} AS p) AS v
WHERE ${where}`
}

export interface GeneratedTable {
  table: string
  rows: number
  /** pg_table_size: heap + TOAST, without indexes. */
  heapBytes: number
  /** pg_total_relation_size: with the primary key index. */
  totalBytes: number
}

const CALIBRATION_ROWS = 20_000
const BATCH_ROWS = 500_000

/** A table's definition and how to insert its rows numbered `from`..`to` (ids i × ID_STEP or i). */
export interface TableRecipe {
  createSql: (table: string) => string
  insertSql: (table: string, from: number, to: number) => string
}

/**
 * Creates and fills `table` with either `rows` rows or about `targetBytes` of heap (measured on
 * a first batch), then adds the primary key (on `id`) and VACUUM ANALYZEs (so no hint-bit
 * writes skew the first timed read). Prints progress.
 */
export async function fillTable(
  url: string,
  table: string,
  recipe: TableRecipe,
  size: { rows: number } | { targetBytes: number },
): Promise<GeneratedTable> {
  await psql(url, recipe.createSql(table))
  const first = 'rows' in size ? Math.min(size.rows, CALIBRATION_ROWS) : CALIBRATION_ROWS
  await psql(url, recipe.insertSql(table, 1, first))
  const rows =
    'rows' in size
      ? size.rows
      : Math.max(first, Math.round((size.targetBytes * first) / (await tableSize(url, table)).heap))
  const started = Date.now()
  for (let from = first + 1; from <= rows; from += BATCH_ROWS) {
    const to = Math.min(rows, from + BATCH_ROWS - 1)
    await psql(url, recipe.insertSql(table, from, to))
    const seconds = (Date.now() - started) / 1000
    progress(
      `generating ${table}: ${to.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows (${seconds.toFixed(0)} s)`,
    )
  }
  await psql(url, `ALTER TABLE ${table} ADD PRIMARY KEY (id)`)
  await psql(url, `VACUUM (ANALYZE) ${table}`)
  const bytes = await tableSize(url, table)
  return { table, rows, heapBytes: bytes.heap, totalBytes: bytes.total }
}

/** The benches' usual table (see `createTableSql`), with `rows` rows or about `targetBytes`. */
export function generateTable(
  url: string,
  table: string,
  size: { rows: number } | { targetBytes: number },
): Promise<GeneratedTable> {
  return fillTable(url, table, { createSql: createTableSql, insertSql: insertRowsSql }, size)
}
