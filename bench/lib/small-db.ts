// The many-small-tables database: an application's schema in miniature (customers, products,
// orders, order lines, and 26 side tables of mixed types), with foreign keys and views.

import { psql } from './postgres.ts'

/** Side tables besides the four core ones: 30 tables in all. */
const SIDE_TABLES = 26

/** Rows of the core tables; the side tables share what is left of `rows`. */
const CORE = { customers: 4_000, products: 1_000, orders: 10_000, order_items: 15_000 }

/** Column types the side tables (and the wide shape) cycle through, each with a value of hash `h`. */
export const MIXED_COLUMNS: { type: string; value: string }[] = [
  { type: 'text', value: `md5(h::text)` },
  { type: 'integer', value: `(h & 1048575)::int` },
  { type: 'numeric(12, 2)', value: `(h & 16777215) / 100.0` },
  {
    type: 'timestamptz',
    value: `timestamptz '2024-01-01 00:00:00+00' + (h & 16777215) * interval '1 second'`,
  },
  { type: 'boolean', value: `(h & 1) = 1` },
  { type: 'jsonb', value: `jsonb_build_object('k', (h >> 8) & 255, 'tag', left(md5(h::text), 6))` },
  { type: 'date', value: `date '2020-01-01' + ((h >> 12) & 2047)::int` },
  { type: 'double precision', value: `(h & 65535) / 7.0` },
  { type: 'uuid', value: `md5(h::text)::uuid` },
  { type: 'varchar(40)', value: `'item-' || ((h >> 20) & 65535)` },
  { type: 'bytea', value: `decode(left(md5(h::text), 16), 'hex')` },
  { type: 'smallint', value: `((h >> 4) & 32767)::smallint` },
  { type: 'text[]', value: `ARRAY[left(md5(h::text), 4), left(md5((h + 1)::text), 4)]` },
]

export interface SmallDatabase {
  tables: number
  rows: number
  views: number
}

/** A side table: id, a customer reference in every other one, and 3 to 9 mixed columns. */
function sideTableSql(k: number, rows: number): string {
  const name = `side_${String(k).padStart(2, '0')}`
  const count = 3 + (k % 7)
  const columns = Array.from(
    { length: count },
    (_, c) => MIXED_COLUMNS[(k + c) % MIXED_COLUMNS.length]!,
  )
  const withCustomer = k % 2 === 0
  const definitions = [
    'id integer PRIMARY KEY',
    ...(withCustomer ? ['customer_id integer NOT NULL REFERENCES customers'] : []),
    ...columns.map((c, i) => `c${i} ${c.type}${i % 3 === 2 ? '' : ' NOT NULL'}`),
  ]
  const values = [
    'i',
    ...(withCustomer ? [`1 + (i * 7919) % ${CORE.customers}`] : []),
    // Every third column is NULL in 1 row of 8.
    ...columns.map((c, i) =>
      i % 3 === 2 ? `CASE WHEN (h >> 40) & 7 = 0 THEN NULL ELSE ${c.value} END` : c.value,
    ),
  ]
  return `CREATE TABLE ${name} (${definitions.join(', ')});
INSERT INTO ${name} SELECT ${values.join(', ')}
FROM generate_series(1, ${rows}) AS i, LATERAL (SELECT hashint8extended(i, ${k}) AS h) AS x;`
}

/**
 * Creates the 30 tables (about `rows` rows in all: 30,000 in the core tables, the rest spread
 * unevenly over the side tables), their foreign keys and 3 views, then VACUUM ANALYZEs.
 */
export async function generateSmallDatabase(url: string, rows = 50_000): Promise<SmallDatabase> {
  const core = Object.values(CORE).reduce((a, b) => a + b, 0)
  const weights = Array.from({ length: SIDE_TABLES }, (_, k) => 1 + ((k * 7) % 5))
  const total = weights.reduce((a, b) => a + b, 0)
  const sideRows = weights.map((w) => Math.max(1, Math.round(((rows - core) * w) / total)))
  const sql = `
CREATE TABLE customers (
  id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL, active boolean NOT NULL, country char(2) NOT NULL, notes text);
INSERT INTO customers SELECT i, 'Customer ' || i, 'c' || i || '@example.com',
  timestamptz '2023-01-01 00:00:00+00' + i * interval '37 minutes', (h & 3) <> 0,
  (ARRAY['DE', 'FR', 'PT', 'JP', 'US', 'CA', 'ES', 'NO'])[1 + (h >> 2 & 7)],
  CASE WHEN (h >> 5) & 3 = 0 THEN NULL ELSE repeat(md5(h::text), 1 + ((h >> 7) & 3)::int) END
FROM generate_series(1, ${CORE.customers}) AS i, LATERAL (SELECT hashint8extended(i, 101) AS h) AS x;
CREATE TABLE products (
  id integer PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price numeric(10, 2) NOT NULL,
  weight real, attrs jsonb NOT NULL, tags text[] NOT NULL);
INSERT INTO products SELECT i, 'SKU-' || lpad(i::text, 6, '0'), 'Product ' || left(md5(h::text), 10),
  (h & 65535) / 100.0, ((h >> 16) & 1023) / 10.0,
  jsonb_build_object('color', (ARRAY['red', 'blue', 'green'])[1 + ((h >> 26) & 1)], 'size', (h >> 28) & 15),
  ARRAY['tag' || ((h >> 32) & 15), 'tag' || ((h >> 36) & 15)]
FROM generate_series(1, ${CORE.products}) AS i, LATERAL (SELECT hashint8extended(i, 102) AS h) AS x;
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers,
  ordered_at timestamptz NOT NULL, status text NOT NULL, total numeric(12, 2) NOT NULL);
INSERT INTO orders SELECT i, 1 + (h & 1048575) % ${CORE.customers},
  timestamptz '2024-01-01 00:00:00+00' + i * interval '13 minutes',
  (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + ((h >> 20) & 3)], ((h >> 24) & 1048575) / 100.0
FROM generate_series(1, ${CORE.orders}) AS i, LATERAL (SELECT hashint8extended(i, 103) AS h) AS x;
CREATE TABLE order_items (
  order_id bigint NOT NULL REFERENCES orders, line smallint NOT NULL,
  product_id integer NOT NULL REFERENCES products, quantity integer NOT NULL,
  unit_price numeric(10, 2) NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO order_items SELECT 1 + (i - 1) / 3 * 2 % ${CORE.orders}, 1 + (i - 1) % 3,
  1 + (h & 1048575) % ${CORE.products}, 1 + ((h >> 20) & 7), ((h >> 24) & 65535) / 100.0
FROM generate_series(1, ${CORE.order_items}) AS i, LATERAL (SELECT hashint8extended(i, 104) AS h) AS x
ON CONFLICT DO NOTHING;
${sideRows.map((n, k) => sideTableSql(k + 1, n)).join('\n')}
CREATE VIEW customer_totals AS
  SELECT c.id, c.name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
CREATE VIEW open_orders AS SELECT * FROM orders WHERE status IN ('pending', 'paid');
CREATE VIEW product_sales AS
  SELECT p.id, p.sku, sum(i.quantity) AS sold FROM products p JOIN order_items i ON i.product_id = p.id
  GROUP BY p.id, p.sku;`
  await psql(url, sql)
  await psql(url, 'VACUUM (ANALYZE)')
  const counted = await psql(
    url,
    `SELECT count(*), sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'public'`,
  )
  const [tables = '0', live = '0'] = counted.split('|')
  return { tables: Number(tables), rows: Number(live), views: 3 }
}
