// MariaDB restores that write into tables with user triggers: the rows written must be the
// snapshot's (a BEFORE UPDATE trigger setting last_update = NOW(), a BEFORE INSERT one changing
// a value must not fire on them), and the triggers must be back afterwards, exactly as they were.

import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectTarget } from '../src/adapters/connect.js'
import { diffLive } from '../src/diff/live-diff.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreChangedRows } from '../src/restore/only-changed.js'
import { restoreSnapshot, type RestoreOptions } from '../src/restore/restore.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const services = testServices()
const suffix = randomBytes(4).toString('hex')
const SOURCE = `dbsnap_trg_src_${suffix}`
const TARGET = `dbsnap_trg_dst_${suffix}`
const sourceUrl = withDatabase(services.mysqlUrl, SOURCE)
const targetUrl = withDatabase(services.mysqlUrl, TARGET)

const SCHEMA = `
  CREATE TABLE film (
    id INT NOT NULL PRIMARY KEY,
    title VARCHAR(40) NOT NULL,
    copies INT NOT NULL,
    last_update DATETIME NOT NULL
  );
  CREATE TRIGGER film_touch BEFORE UPDATE ON film FOR EACH ROW SET NEW.last_update = NOW();
  CREATE TRIGGER film_touch_2 BEFORE UPDATE ON film FOR EACH ROW FOLLOWS film_touch
    SET NEW.title = CONCAT(NEW.title, '!');
  CREATE TRIGGER film_stock BEFORE INSERT ON film FOR EACH ROW SET NEW.copies = NEW.copies + 1000;
  CREATE TABLE film_log (id INT NOT NULL PRIMARY KEY, note VARCHAR(20));
  CREATE TRIGGER film_log_trigger AFTER INSERT ON film_log FOR EACH ROW
    UPDATE film SET copies = copies + 1 WHERE id = NEW.id;
`

let admin: mysql.Connection
let repository: Repository
let snapshot: StoredSnapshot

async function run(url: string, sql: string): Promise<mysql.RowDataPacket[]> {
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true })
  try {
    const [rows] = await conn.query(sql)
    return rows as mysql.RowDataPacket[]
  } finally {
    await conn.end()
  }
}

/** SHOW CREATE TRIGGER of every trigger of the target (without `Created`), and their order. */
async function triggers(): Promise<unknown[]> {
  const rows = await run(
    targetUrl,
    `SELECT trigger_name AS name, action_order AS n FROM information_schema.triggers
      WHERE trigger_schema = database() ORDER BY event_object_table, action_timing,
            event_manipulation, action_order`,
  )
  const out: unknown[] = []
  for (const row of rows) {
    const [shown] = await run(targetUrl, `SHOW CREATE TRIGGER \`${row.name as string}\``)
    const { Created: _created, ...rest } = shown!
    out.push({ order: row.n as number, ...rest })
  }
  return out
}

/** The row changes a live diff of the target against the snapshot finds. */
async function liveChanges(): Promise<unknown[]> {
  const diff = await diffLive({ repository, snapshot }, targetUrl)
  try {
    const changes: unknown[] = []
    for await (const change of diff.rowChanges()) changes.push(change)
    return changes
  } finally {
    await diff.close()
  }
}

async function restore(
  options: Partial<Omit<RestoreOptions, 'target' | 'repository' | 'snapshot'>> = {},
): Promise<void> {
  const target = await connectTarget(targetUrl)
  try {
    await restoreSnapshot({ repository, snapshot, target, ...options })
  } finally {
    await target.close()
  }
}

/** Rows of the target that differ from the snapshot's, as a live application would leave them. */
async function drift(): Promise<void> {
  await run(
    targetUrl,
    `UPDATE film SET copies = 7 WHERE id = 1;
     DELETE FROM film WHERE id = 2;
     INSERT INTO film VALUES (9, 'Extra', 1, '2020-01-01 00:00:00');
     UPDATE film_log SET note = 'changed' WHERE id = 1;`,
  )
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl })
  for (const name of [SOURCE, TARGET]) await admin.query(`CREATE DATABASE \`${name}\``)
  await run(sourceUrl, SCHEMA)
  await run(
    sourceUrl,
    `INSERT INTO film VALUES (1, 'Alpha', 3, '2006-02-15 05:03:42'), (2, 'Beta', 4, '2006-02-15 05:03:42'),
       (3, 'Gamma', 5, '2006-02-15 05:03:42');
     INSERT INTO film_log VALUES (1, 'made'), (2, 'made');`,
  )
  repository = await Repository.open(new MemoryStorage(), { create: true })
  const { id } = await createSnapshot({ source: sourceUrl, repository, base: null })
  snapshot = { id, manifest: await repository.readManifest(id) }
  await restore()
})

afterAll(async () => {
  for (const name of [SOURCE, TARGET]) await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await admin?.end()
})

describe('MariaDB restore into tables with triggers', () => {
  it('a restore into an empty database writes the snapshot rows and creates the triggers after them', async () => {
    expect(await liveChanges()).toEqual([])
    expect(await triggers()).toHaveLength(4)
  })

  it('--mode append --on-conflict update writes the snapshot rows, and the triggers are back as they were', async () => {
    const before = await triggers()
    await drift()
    expect(await liveChanges()).not.toEqual([])
    await restore({ mode: 'append', onConflict: 'update' })
    // The row deleted by drift() comes back, the one it added stays (append deletes nothing).
    await run(targetUrl, 'DELETE FROM film WHERE id = 9')
    expect(await liveChanges()).toEqual([])
    expect(await liveChanges()).toEqual([])
    expect(await triggers()).toEqual(before)
  })

  it('plans the triggers out of the way and back, and puts them back when the rows fail to load', async () => {
    const before = await triggers()
    const rows = await run(targetUrl, 'SELECT * FROM film ORDER BY id')
    const target = await connectTarget(targetUrl)
    try {
      const planned = await restoreSnapshot({
        repository,
        snapshot,
        target,
        mode: 'append',
        onConflict: 'fail',
        dryRun: true,
      })
      expect(planned.plan.filter((step) => /its triggers|the triggers/.test(step.action))).toEqual([
        expect.objectContaining({ object: 'film: film_stock, film_touch, film_touch_2' }),
        expect.objectContaining({ object: 'film: film_stock, film_touch, film_touch_2' }),
        expect.objectContaining({ object: 'film_log: film_log_trigger' }),
        expect.objectContaining({ object: 'film_log: film_log_trigger' }),
      ])
      // The triggers are there: none to create.
      expect(planned.plan.filter((step) => /create trigger/.test(step.action))).toEqual([])
      // Every row is there already: the first one fails the load, which rolls back.
      await expect(
        restoreSnapshot({ repository, snapshot, target, mode: 'append', onConflict: 'fail' }),
      ).rejects.toMatchObject({ code: 'TARGET_CONFLICT' })
    } finally {
      await target.close()
    }
    expect(await triggers()).toEqual(before)
    expect(await run(targetUrl, 'SELECT * FROM film ORDER BY id')).toEqual(rows)
  })

  it('--only-changed writes the snapshot rows, and the triggers are back as they were', async () => {
    const before = await triggers()
    await drift()
    const target = await connectTarget(targetUrl)
    try {
      await restoreChangedRows({ repository, snapshot, target, url: targetUrl })
    } finally {
      await target.close()
    }
    expect(await liveChanges()).toEqual([])
    expect(await liveChanges()).toEqual([])
    expect(await triggers()).toEqual(before)
  })
})

describe('MariaDB restore --only-changed --dry-run into tables with triggers', () => {
  it('plans the triggers out of the way and back around each table it would write, and writes nothing', async () => {
    const before = await triggers()
    await drift()
    const changes = await liveChanges()
    const target = await connectTarget(targetUrl)
    try {
      const planned = await restoreChangedRows({
        repository,
        snapshot,
        target,
        url: targetUrl,
        dryRun: true,
      })
      expect(
        planned.plan.map((step) => [step.action.split(' ', 2).join(' '), step.object]),
      ).toEqual([
        ['lock the', 'film: film_stock, film_touch, film_touch_2'],
        ['restore changed', 'film'],
        ['recreate the', 'film: film_stock, film_touch, film_touch_2'],
        ['lock the', 'film_log: film_log_trigger'],
        ['restore changed', 'film_log'],
        ['recreate the', 'film_log: film_log_trigger'],
      ])
      expect(await liveChanges()).toEqual(changes)
      expect(await triggers()).toEqual(before)
      await restoreChangedRows({ repository, snapshot, target, url: targetUrl })
    } finally {
      await target.close()
    }
    expect(await liveChanges()).toEqual([])
  })
})
