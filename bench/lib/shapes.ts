// Table shapes for bench/snapshot-shapes.ts: one table each, generated in SQL from the row number
// (hashint8extended), so every run sees the same data. Ids are i, primary key `id`.

import type { TableRecipe } from './generate.ts'
import { MIXED_COLUMNS } from './small-db.ts'

/** Inserts rows `from`..`to`, one expression of i and its hashes h and g per column. */
function insertSql(columns: string[]) {
  return (table: string, from: number, to: number): string =>
    `INSERT INTO ${table} SELECT ${columns.join(', ')}
FROM generate_series(${from}::bigint, ${to}::bigint) AS i,
  LATERAL (SELECT hashint8extended(i, 1) AS h, hashint8extended(i, 2) AS g) AS x`
}

/** `count` columns of `type` named `<prefix>1..`, for CREATE TABLE. */
function columnList(prefix: string, count: number, type: string): string[] {
  return Array.from({ length: count }, (_, k) => `${prefix}${k + 1} ${type}`)
}

const WIDE_COLUMNS = 44

export const SHAPES: Record<string, { description: string; recipe: TableRecipe }> = {
  issue: {
    description: 'the table of issue 12: int key, md5 text, int, timestamptz, jsonb, padded text',
    recipe: {
      createSql: (t) =>
        `CREATE TABLE ${t} (id integer NOT NULL, md5 text, n integer, ts timestamptz, doc jsonb, pad text)`,
      insertSql: insertSql([
        'i',
        'md5(i::text)',
        '(h & 1048575)::int',
        `timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second'`,
        `jsonb_build_object('a', i, 'b', md5(h::text), 'c', (h & 1) = 1)`,
        `rpad(i::text, 100, 'x')`,
      ]),
    },
  },
  text: {
    description: 'text-heavy: five text columns, 10 to 600 characters',
    recipe: {
      createSql: (t) =>
        `CREATE TABLE ${t} (id bigint NOT NULL, name text, code text, summary text, body text, tags text)`,
      insertSql: insertSql([
        'i',
        `'name ' || left(md5(h::text), 4 + (h & 15)::int)`,
        'md5(g::text)',
        `left(repeat(md5(h::text) || ' ', 6), 40 + ((h >> 8) & 127)::int)`,
        `left(repeat(md5(g::text) || ' lorem ipsum ', 20), 200 + ((h >> 16) & 511)::int)`,
        `'tag' || (h >> 24 & 63) || ',tag' || (h >> 30 & 63)`,
      ]),
    },
  },
  jsonb: {
    description: 'jsonb-heavy: a nested document of about 400 bytes',
    recipe: {
      createSql: (t) => `CREATE TABLE ${t} (id bigint NOT NULL, doc jsonb NOT NULL)`,
      insertSql: insertSql([
        'i',
        `jsonb_build_object(
          'user', jsonb_build_object('id', h & 1048575, 'name', left(md5(h::text), 12), 'active', (h & 1) = 1),
          'items', jsonb_build_array(
            jsonb_build_object('sku', left(md5(g::text), 8), 'qty', (g & 7) + 1, 'price', (g & 65535) / 100.0),
            jsonb_build_object('sku', left(md5((g + 1)::text), 8), 'qty', (g >> 3 & 7) + 1, 'price', (g >> 16 & 65535) / 100.0)),
          'address', jsonb_build_object('street', md5((h + 2)::text), 'city', left(md5((h + 3)::text), 10), 'zip', lpad((h & 99999)::text, 5, '0')),
          'tags', jsonb_build_array('t' || (h >> 20 & 31), 't' || (h >> 25 & 31), 't' || (h >> 30 & 31)),
          'score', (h >> 35 & 1023) / 10.0, 'note', CASE WHEN h & 3 = 0 THEN NULL ELSE md5((g + 4)::text) END)`,
      ]),
    },
  },
  numeric: {
    description: 'numeric-heavy: 14 integer, bigint, numeric and float columns',
    recipe: {
      createSql: (t) =>
        `CREATE TABLE ${t} (id bigint NOT NULL, ${[
          ...columnList('i', 3, 'integer'),
          ...columnList('b', 3, 'bigint'),
          ...columnList('n', 4, 'numeric(14, 4)'),
          ...columnList('f', 2, 'double precision'),
          ...columnList('s', 2, 'smallint'),
        ].join(', ')})`,
      insertSql: insertSql([
        'i',
        '(h & 2147483647)::int',
        '(g & 1048575)::int',
        '(h >> 40 & 65535)::int',
        'h',
        'g >> 8',
        'i * 1000003',
        '(h & 16777215) / 10000.0',
        '(g & 268435455) / 100.0',
        '(h >> 24 & 1048575) / 1000.0',
        '(g >> 30 & 4194303) / 10000.0',
        '(h & 1048575) / 7.0',
        '(g >> 20 & 1048575) * 1.0e-3',
        '(h >> 50 & 32767)::smallint',
        '(g >> 50 & 32767)::smallint',
      ]),
    },
  },
  wide: {
    description: `wide rows: ${WIDE_COLUMNS} columns of mixed types`,
    recipe: {
      createSql: (t) =>
        `CREATE TABLE ${t} (id bigint NOT NULL, ${Array.from(
          { length: WIDE_COLUMNS },
          (_, k) => `c${k + 1} ${MIXED_COLUMNS[k % MIXED_COLUMNS.length]!.type}`,
        ).join(', ')})`,
      // Each column's hash differs (h rotated by the column number), so columns do not repeat.
      insertSql: (table, from, to) =>
        `INSERT INTO ${table} SELECT i, ${Array.from({ length: WIDE_COLUMNS }, (_, k) =>
          MIXED_COLUMNS[k % MIXED_COLUMNS.length]!.value.replace(/\bh\b/g, `h${k % 4}`),
        ).join(', ')}
FROM generate_series(${from}::bigint, ${to}::bigint) AS i,
  LATERAL (SELECT hashint8extended(i, 1) AS h0, hashint8extended(i, 2) AS h1,
                  hashint8extended(i, 3) AS h2, hashint8extended(i, 4) AS h3) AS x`,
    },
  },
}
