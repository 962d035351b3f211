// Restore into a real MariaDB: an exact round trip of every type and object kind (snapshot ->
// restore -> snapshot gives the same chunks and an empty diff), refusals (columns differ,
// read-only, missing grants), a rerun after an interrupted restore, and the SQL export loaded with
// the `mysql` client. What every engine's target does (refusals, untouched tables, on-conflict,
// rollback) is in conformance/target-conformance.ts.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'
import { mysqlSql } from '../src/adapters/mysql/mysql-sql.js'
import type { RestoreObjects } from '../src/adapters/target-adapter.js'
import { connectTarget } from '../src/adapters/connect.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { isDbsnapError } from '../src/errors.js'
import { exportSnapshot } from '../src/export/export.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot, type RestoreOptions } from '../src/restore/restore.js'
import { snapshotTableRows } from '../src/repository/snapshot-rows.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const services = testServices()
const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/mysql/${name}`, import.meta.url), 'utf8')
const FIXTURES = ['all-types.sql', 'objects.sql', 'restore-objects.sql'].map(fixture)
const suffix = randomBytes(4).toString('hex')
const created: string[] = []
const users: string[] = []

let admin: mysql.Connection
let repository: Repository
/** A snapshot of a database made from the fixtures. */
let source: StoredSnapshot

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true })
  repository = await Repository.open(new MemoryStorage(), { create: true })
  source = await snapshot(await database('src', FIXTURES))
})

afterAll(async () => {
  for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``)
  for (const user of users) await admin?.query(`DROP USER IF EXISTS '${user}'@'%'`)
  await admin?.end()
})

/** A new database, loaded with `sql` scripts; returns its URL. */
async function database(label: string, sql: string[] = []): Promise<string> {
  const name = `dbsnap_restore_${label}_${suffix}`
  created.push(name)
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await admin.query(`CREATE DATABASE \`${name}\``)
  if (sql.length > 0) {
    const conn = await mysql.createConnection({
      uri: withDatabase(services.mysqlUrl, name),
      multipleStatements: true,
    })
    try {
      for (const script of sql) await conn.query(script)
    } finally {
      await conn.end()
    }
  }
  return withDatabase(services.mysqlUrl, name)
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true })
  try {
    const [rows] = await conn.query(sql)
    return rows as unknown[]
  } finally {
    await conn.end()
  }
}

async function snapshot(url: string, tables?: string[]): Promise<StoredSnapshot> {
  const { id } = await createSnapshot({ source: url, repository, tables, base: null })
  return { id, manifest: await repository.readManifest(id) }
}

async function restore(
  url: string,
  options: Partial<Omit<RestoreOptions, 'target' | 'repository'>> = {},
): Promise<Awaited<ReturnType<typeof restoreSnapshot>>> {
  const target = await connectTarget(url)
  try {
    return await restoreSnapshot({ repository, snapshot: source, target, ...options })
  } finally {
    await target.close()
  }
}

/** The error a promise rejects with (fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return err
    throw err
  }
  throw new Error('expected a rejection')
}

/** Chunk index id per table: equal ids mean byte-identical canonical rows. */
function chunkIndexes(s: StoredSnapshot): Record<string, string> {
  return Object.fromEntries(s.manifest.tables.map((t) => [t.name, t.index]))
}

/** Schema changes and row changes between two snapshots, restricted to `tables`. */
async function differences(
  a: StoredSnapshot,
  b: StoredSnapshot,
  tables?: string[],
): Promise<{ schema: unknown[]; rows: unknown[] }> {
  const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b }, { tables })
  const rows: unknown[] = []
  for await (const change of diff.rowChanges()) rows.push(change)
  return { schema: diff.schema, rows }
}

describe('MySQL/MariaDB restore', () => {
  it('knows every object kind of the fixtures', () => {
    const { schema } = source.manifest
    expect(schema.views.map((v) => v.name)).toEqual([
      'big_order_ids',
      'big_orders',
      'customer_names',
    ])
    expect(schema.routines.map((r) => r.name)).toEqual([
      'order_total',
      'bump_balance',
      'count_orders',
    ])
    expect(schema.tables.flatMap((t) => t.triggers.map((g) => g.name)).sort()).toEqual([
      'order_lines_after_delete',
      'orders_before_insert',
      'orders_before_insert_2',
    ])
    expect(schema.events?.map((e) => e.name)).toEqual(['purge_archive'])
  })

  // Overwritten tables load with LOAD DATA LOCAL INFILE where the server allows it, else INSERT.
  it.each([
    ['LOAD DATA', 'infile', ''],
    ['INSERT', 'insert', '?local-infile=0'],
  ])(
    'round trip (%s): snapshot -> restore into an empty database -> snapshot gives the same chunks and no diff',
    async (_, label, params) => {
      const base = await database(`copy_${label}`)
      const url = `${base}${params}`
      const result = await restore(url)
      expect(result.tables.map((t) => t.status)).toEqual(result.tables.map(() => 'restored'))
      expect(result.plan.some((s) => s.destructive === true)).toBe(false)
      const copy = await snapshot(url)
      expect(chunkIndexes(copy)).toEqual(chunkIndexes(source))
      expect(await differences(source, copy)).toEqual({ schema: [], rows: [] })
      // The views read the copy, not the source database.
      expect(await query(base, 'SELECT * FROM big_order_ids ORDER BY id')).toEqual([{ id: 3 }])
    },
  )

  it('leaves out a DEFINER whose account the target lacks: the restoring account owns the object', async () => {
    const url = await database('definer')
    const ghost = structuredClone(source)
    for (const object of [
      ...ghost.manifest.schema.views,
      ...ghost.manifest.schema.routines,
      ...(ghost.manifest.schema.events ?? []),
      ...ghost.manifest.schema.tables.flatMap((t) => t.triggers),
    ]) {
      const extra = object.extra as { definer: string }
      if ('definition' in object) {
        object.definition = object.definition.replace(/DEFINER=\S+/, 'DEFINER=`ghost`@`nowhere`')
      }
      extra.definer = 'ghost@nowhere'
    }
    await restore(url, { snapshot: ghost })
    const [me] = (await query(url, 'SELECT current_user() AS u')) as { u: string }[]
    const definers = await query(
      url,
      `SELECT definer AS d FROM information_schema.views WHERE table_schema = database()
       UNION SELECT definer FROM information_schema.routines WHERE routine_schema = database()
       UNION SELECT definer FROM information_schema.triggers WHERE trigger_schema = database()
       UNION SELECT definer FROM information_schema.events WHERE event_schema = database()`,
    )
    expect(definers).toEqual([{ d: me!.u }])
  })

  it('a restore stopped midway and run again with --force completes', async () => {
    const url = await database('rerun')
    const controller = new AbortController()
    let done = 0
    const stopped = await failure(
      restore(url, {
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'table-done' && ++done === 3) controller.abort()
        },
      }),
    )
    expect(stopped.code).toBe('ABORTED')
    await restore(url, { force: true })
    const copy = await snapshot(url)
    expect(chunkIndexes(copy)).toEqual(chunkIndexes(source))
    expect(await differences(source, copy)).toEqual({ schema: [], rows: [] })
  })

  it.each([
    ['LOAD DATA', 'infile', ''],
    ['INSERT', 'insert', '?local-infile=0'],
  ])('a table whose load is stopped midway is left empty (%s)', async (_, label, params) => {
    const from = await database(`many_${label}`, [
      `CREATE TABLE many (id INT PRIMARY KEY, v VARCHAR(100));
       INSERT INTO many SELECT seq, REPEAT('x', 90) FROM seq_1_to_60000;
       ANALYZE TABLE many`,
    ])
    const rows = await snapshot(from)
    expect(rows.manifest.tables[0]!.chunks).toBeGreaterThan(2)
    const base = await database(`stopped_${label}`)
    const controller = new AbortController()
    const stopped = await failure(
      restore(`${base}${params}`, {
        snapshot: rows,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'rows') controller.abort()
        },
      }),
    )
    expect(stopped.code).toBe('ABORTED')
    expect(await query(base, 'SELECT count(*) AS n FROM many')).toEqual([{ n: 0 }])
  })

  it('replaces a table other tables reference, keeping their foreign keys', async () => {
    const url = await database('parent')
    await restore(url)
    await query(url, 'DELETE FROM order_lines; DELETE FROM orders WHERE id = 3')
    const result = await restore(url, { tables: ['orders'], force: true })
    const kept = result.plan.find((step) => step.object === 'orders <- order_lines')
    expect(kept?.action).toMatch(/^keep foreign keys of tables not restored/)
    const fks = await query(
      url,
      `SELECT table_name AS t, constraint_name AS n FROM information_schema.referential_constraints
        WHERE constraint_schema = database()`,
    )
    const key = (r: unknown): string => JSON.stringify(r)
    expect(fks.sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual([
      { t: 'order_lines', n: 'order_lines_order' },
      { t: 'order_lines', n: 'order_lines_replaced' },
      { t: 'orders', n: 'orders_customer' },
    ])
    expect(await query(url, 'SELECT count(*) AS n FROM orders')).toEqual([{ n: 3 }])
  })

  it('leaves a table as it was when the server refuses its new definition (overwrite)', async () => {
    const url = await database('refused')
    await restore(url)
    const before = await query(url, 'SELECT count(*) AS n FROM orders')
    // A MySQL 8 collation MariaDB does not have: the definition fails, on a scratch table.
    const mysql8 = structuredClone(source)
    const orders = mysql8.manifest.schema.tables.find((t) => t.name === 'orders')!
    const text = orders.columns.find((c) => /char|text/i.test(c.type))!
    text.extra = { ...text.extra, charset: 'utf8mb4', collation: 'utf8mb4_0900_ai_ci' }
    const target = await connectTarget(url)
    try {
      const refused = await failure(
        restoreSnapshot({ repository, snapshot: mysql8, target, tables: ['orders'], force: true }),
      )
      expect(refused.message).toMatch(/utf8mb4_0900_ai_ci/)
    } finally {
      await target.close()
    }
    expect(await query(url, 'SELECT count(*) AS n FROM orders')).toEqual(before)
  })

  describe('append', () => {
    let rows: StoredSnapshot
    const gt = 'CREATE TABLE gt (id INT PRIMARY KEY, name VARCHAR(20), u INT, UNIQUE KEY gt_u (u))'

    beforeAll(async () => {
      const from = await database('append_src', [
        `${gt}; INSERT INTO gt VALUES (1,'a',1),(2,'b',2),(3,'c',3),(4,'d',4)`,
      ])
      rows = await snapshot(from)
    })

    it('refuses a table whose columns differ', async () => {
      const other = await database('append_cols', [
        'CREATE TABLE gt (id INT PRIMARY KEY, name VARCHAR(20), extra INT)',
      ])
      const err = await failure(
        restore(other, { mode: 'append', onConflict: 'fail', snapshot: rows }),
      )
      expect(err.code).toBe('TARGET_SCHEMA_MISMATCH')
      expect(err.message).toMatch(/missing u.*not in the snapshot: extra/)
    })
  })

  describe('accounts that may not write', () => {
    const password = randomBytes(12).toString('hex')
    const user = (label: string): string => {
      const name = `dbsnap_rs_${label}_${suffix}`
      users.push(name)
      return name
    }

    it('a user with only SELECT gets CONNECTION_PRIVILEGE_MISSING naming what it lacks', async () => {
      const url = await database('grants')
      const name = user('sel')
      const db = new URL(url).pathname.slice(1)
      await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`)
      await admin.query(`GRANT SELECT ON \`${db}\`.* TO '${name}'@'%'`)
      const err = await failure(restore(withCredentials(url, name, password)))
      expect(err.code).toBe('CONNECTION_PRIVILEGE_MISSING')
      expect(err.message).toMatch(/INSERT, CREATE, DROP/)
      expect(await query(url, 'SHOW TABLES')).toEqual([])
    })

    it('a read-only server gives TARGET_READ_ONLY before anything is written', async () => {
      const url = await database('readonly')
      const name = user('ro')
      const db = new URL(url).pathname.slice(1)
      await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`)
      await admin.query(`GRANT ALL ON \`${db}\`.* TO '${name}'@'%'`)
      const target = await connectTarget(withCredentials(url, name, password))
      try {
        // read_only stops every account without SUPER, other tests' too: on for this call only.
        await admin.query('SET GLOBAL read_only = 1')
        let err: { code: string } | undefined
        try {
          err = await failure(restoreSnapshot({ repository, snapshot: source, target }))
        } finally {
          await admin.query('SET GLOBAL read_only = 0')
        }
        expect(err.code).toBe('TARGET_READ_ONLY')
      } finally {
        await target.close()
      }
      expect(await query(url, 'SHOW TABLES')).toEqual([])
    })
  })

  it('mysqlSql: the export loaded with the mysql client gives the same chunks and no diff', async () => {
    const url = await database('script')
    const { manifest } = source
    const objects: RestoreObjects = {
      schema: manifest.schema,
      tables: manifest.schema.tables,
      whole: true,
    }
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-mysql-sql-'))
    try {
      const parts: string[] = [mysqlSql.preData(objects)]
      for (const table of objects.tables) {
        const entry = manifest.tables.find((t) => t.name === table.name)!
        for await (const text of mysqlSql.tableData(table, snapshotTableRows(repository, entry))) {
          parts.push(text)
        }
      }
      parts.push(mysqlSql.postData(objects))
      const file = join(dir, 'export.sql')
      await writeFile(file, parts.join(''))
      const server = new URL(url)
      await promisify(execFile)(
        'sh',
        ['-c', 'exec mysql --host="$H" --port="$P" --user="$U" "$D" < "$F"'],
        {
          env: {
            ...process.env,
            H: server.hostname,
            P: server.port || '3306',
            U: decodeURIComponent(server.username),
            MYSQL_PWD: decodeURIComponent(server.password),
            D: server.pathname.slice(1),
            F: file,
          },
        },
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const loaded = await snapshot(url)
    expect(chunkIndexes(loaded)).toEqual(chunkIndexes(source))
    expect(await differences(source, loaded)).toEqual({ schema: [], rows: [] })
  })
})

describe('MariaDB restore of a snapshot taken with --tables', () => {
  let url: string
  let partial: StoredSnapshot
  const leftOut = [
    'foreign key payment_ibfk_1 of payment left out: the snapshot does not hold rental, which it needs',
    'trigger payment_log of payment left out: the snapshot does not hold rental, which it needs',
    'view rentals left out: the snapshot does not hold rental, which it needs',
  ]
  /** Views, triggers and foreign keys of a database, as `kind name` lines. */
  const dependents = async (target: string): Promise<string[]> => {
    const database = new URL(target).pathname.slice(1)
    const found = (await query(
      target,
      `SELECT CONCAT('view ', table_name) AS o FROM information_schema.views WHERE table_schema = '${database}'
       UNION ALL SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = '${database}'
       UNION ALL SELECT CONCAT('foreign key ', constraint_name) FROM information_schema.referential_constraints
        WHERE constraint_schema = '${database}'`,
    )) as { o: string }[]
    return found.map((row) => row.o).sort()
  }

  beforeAll(async () => {
    url = await database('partial', [
      `CREATE TABLE film (id int PRIMARY KEY, title text);
       CREATE TABLE rental (id int PRIMARY KEY, film int, FOREIGN KEY (film) REFERENCES film (id));
       CREATE TABLE payment (id int PRIMARY KEY, rental int, film int,
         FOREIGN KEY (rental) REFERENCES rental (id), FOREIGN KEY (film) REFERENCES film (id));
       INSERT INTO film VALUES (1, 'one');
       INSERT INTO rental VALUES (10, 1);
       INSERT INTO payment VALUES (100, 10, 1);
       CREATE VIEW film_titles AS SELECT title FROM film;
       CREATE VIEW rentals AS SELECT r.id, f.title FROM rental r JOIN film f ON f.id = r.film;
       CREATE TRIGGER payment_log AFTER INSERT ON payment FOR EACH ROW UPDATE rental SET film = NEW.film WHERE id = NEW.rental;
       CREATE TRIGGER payment_check BEFORE INSERT ON payment FOR EACH ROW SET NEW.film = COALESCE(NEW.film, 1);`,
    ])
    partial = await snapshot(url, ['film', 'payment'])
  })

  it('leaves out, with a warning each, the view, foreign key and trigger that need a table it did not read', async () => {
    const target = await database('partial_to')
    const connection = await connectTarget(target)
    try {
      const result = await restoreSnapshot({ repository, snapshot: partial, target: connection })
      expect(result.warnings).toEqual(expect.arrayContaining(leftOut))
      expect(result.warnings.filter((w) => w.includes(' left out: '))).toHaveLength(3)
    } finally {
      await connection.close()
    }
    expect(await dependents(target)).toEqual([
      'foreign key payment_ibfk_2',
      'trigger payment_check',
      'view film_titles',
    ])
    expect(await query(target, 'SELECT id, rental, film FROM payment')).toEqual([
      { id: 100, rental: 10, film: 1 },
    ])
  })

  it('exports an SQL script the mysql client loads, with a comment line per object left out', async () => {
    const target = await database('partial_sql')
    let script = ''
    for await (const piece of exportSnapshot({ repository, snapshot: partial, format: 'sql' })) {
      script += piece
    }
    for (const line of leftOut) expect(script).toContain(`-- ${line}\n`)
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-mysql-partial-'))
    try {
      const file = join(dir, 'export.sql')
      await writeFile(file, script)
      const server = new URL(target)
      await promisify(execFile)(
        'sh',
        ['-c', 'exec mysql --host="$H" --port="$P" --user="$U" "$D" < "$F"'],
        {
          env: {
            ...process.env,
            H: server.hostname,
            P: server.port || '3306',
            U: decodeURIComponent(server.username),
            MYSQL_PWD: decodeURIComponent(server.password),
            D: server.pathname.slice(1),
            F: file,
          },
        },
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    expect(await dependents(target)).toEqual([
      'foreign key payment_ibfk_2',
      'trigger payment_check',
      'view film_titles',
    ])
  })
})
