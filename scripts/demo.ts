// `npm run demo`: DBSnap's main job with nothing installed but Node. An embedded PostgreSQL
// (PGlite, served over the wire protocol by pglite-socket) is filled with a small shop; the demo
// snapshots it, changes rows and the schema, snapshots again, and prints the diff. Every step
// runs the real `dbsnap` CLI in its own process, as a user would type it.

import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { styleText } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
// The flags of the binary's shebang, so the demo runs what users run (decision 0017).
import { cliArgs } from '../test/cli.ts'

const SHOP = `
  CREATE TABLE customers (
    id integer PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    plan text NOT NULL DEFAULT 'free'
  );
  CREATE TABLE products (
    sku text PRIMARY KEY,
    name text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price >= 0),
    attrs jsonb NOT NULL DEFAULT '{}'
  );
  CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    sku text NOT NULL REFERENCES products (sku),
    quantity integer NOT NULL,
    placed_at timestamptz NOT NULL,
    status text NOT NULL
  );
  INSERT INTO customers
    SELECT i, 'Customer ' || i, 'customer' || i || '@example.com',
           (ARRAY['free', 'team', 'business'])[1 + i % 3]
    FROM generate_series(1, 2000) i;
  INSERT INTO products
    SELECT 'SKU-' || lpad(i::text, 4, '0'), 'Product ' || i, (i * 7 % 500) + 0.99,
           jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[1 + i % 3],
                              'sizes', jsonb_build_array('S', 'M', 'L'))
    FROM generate_series(1, 300) i;
  INSERT INTO orders
    SELECT i, 1 + (i * 31) % 2000, 'SKU-' || lpad((1 + (i * 17) % 300)::text, 4, '0'),
           1 + i % 5, timestamptz '2026-01-01 00:00:00+00' + i * interval '7 minutes',
           (ARRAY['placed', 'shipped', 'delivered'])[1 + i % 3]
    FROM generate_series(1, 50000) i;
`

/** What happens between the two snapshots: a release and a busy hour. */
const CHANGES = `
  ALTER TABLE customers ADD COLUMN country text;
  CREATE INDEX orders_customer_idx ON orders (customer_id);
  UPDATE customers SET plan = 'business', country = 'PT' WHERE id = 42;
  UPDATE products SET price = price * 1.10, attrs = jsonb_set(attrs, '{color}', '"black"')
    WHERE sku = 'SKU-0007';
  UPDATE orders SET status = 'cancelled' WHERE id IN (1200, 31337);
  DELETE FROM orders WHERE id = 49999;
  INSERT INTO orders VALUES (50001, 42, 'SKU-0007', 2, '2026-11-24 12:00:00+00', 'placed');
`

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no free port'))
      })
    })
  })
}

/**
 * Runs `dbsnap ...args` with the terminal, after showing the command as typed; rejects unless it
 * exits with `expected`.
 */
function dbsnap(args: string[], expected = 0): Promise<void> {
  console.log(`\n${styleText('bold', `$ dbsnap ${args.join(' ')}`)}`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (expected !== 0) console.log(styleText('dim', `(exit code ${code})`))
      if (code === expected) resolve()
      else reject(new Error(`dbsnap ${args[0]} exited with ${code}, not ${expected}`))
    })
  })
}

function step(text: string): void {
  console.log(`\n${styleText(['bold', 'cyan'], `# ${text}`)}`)
}

async function main(): Promise<void> {
  step('An embedded PostgreSQL (PGlite) with a small shop: 2,000 customers, 50,000 orders')
  const db = await PGlite.create()
  await db.exec(SHOP)
  const port = await freePort()
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port })
  await server.start()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const repo = await mkdtemp(join(tmpdir(), 'dbsnap-demo-'))
  const repoArgs = ['--repo', repo]
  try {
    await dbsnap(['snapshot', url, '--name', 'shop', ...repoArgs])
    step('A release adds a column and an index; customers and orders change')
    console.log(CHANGES.trim().replace(/^ {2}/gm, ''))
    await db.exec(CHANGES)
    await dbsnap(['snapshot', url, '--name', 'shop', ...repoArgs])
    step('What changed, down to the column and the JSON key')
    await dbsnap(['diff', 'shop@latest~1', 'shop@latest', ...repoArgs])
    step('In CI: exit code 1 when something differs, a Markdown report for the pull request')
    const ci = ['--exit-code', '--schema-only', '--format', 'markdown']
    await dbsnap(['diff', 'shop@latest~1', 'shop@latest', ...ci, ...repoArgs], 1)
    console.log(`\nThe repository is in ${repo}; it is removed now. Try it on your own database:`)
    console.log('  npx dbsnap snapshot postgres://user@host:5432/db --repo ./snapshots')
  } finally {
    await server.stop()
    await db.close()
    await rm(repo, { recursive: true, force: true })
  }
}

await main()
