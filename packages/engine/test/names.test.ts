// Tables told apart by schema and name, never by the two joined: a table `z` in schema `x.y` and a
// table `y.z` in schema `x` (both `x.y.z` joined) through export, restore and diff on PostgreSQL,
// and a MongoDB collection whose name holds a dot.

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectTarget } from '../src/adapters/connect.js'
import type { RowChange } from '../src/diff/diff-format.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { exportSnapshot, type ExportOptions } from '../src/export/export.js'
import { tableName } from '../src/schema/table-name.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreChangedRows } from '../src/restore/only-changed.js'
import { restoreSnapshot, type RestoreOptions } from '../src/restore/restore.js'
import { findTable } from '../src/snapshot/resolve-ref.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

let repository: Repository
beforeAll(async () => {
  repository = await Repository.open(new MemoryStorage(), { create: true })
})

async function snap(url: string, tables?: string[]): Promise<StoredSnapshot> {
  const { id } = await createSnapshot({ source: url, repository, tables })
  return { id, manifest: await repository.readManifest(id) }
}

async function exported(
  snapshot: StoredSnapshot,
  options: Omit<ExportOptions, 'repository' | 'snapshot'>,
): Promise<string> {
  let out = ''
  for await (const piece of exportSnapshot({ repository, snapshot, ...options })) out += piece
  return out
}

async function restore(
  snapshot: StoredSnapshot,
  url: string,
  options: Omit<RestoreOptions, 'repository' | 'snapshot' | 'target'> = {},
): ReturnType<typeof restoreSnapshot> {
  const target = await connectTarget(url)
  try {
    return await restoreSnapshot({ repository, snapshot, target, ...options })
  } finally {
    await target.close()
  }
}

async function rowChanges(a: StoredSnapshot, b: StoredSnapshot): Promise<RowChange[]> {
  const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
  const changes: RowChange[] = []
  for await (const change of diff.rowChanges()) changes.push(change)
  return changes
}

describe('tables whose joined names collide (PostgreSQL)', () => {
  const databases: TestDatabase[] = []
  let source: TestDatabase
  let snapshot: StoredSnapshot

  beforeAll(async () => {
    source = await createTestDatabase('dbsnap_it_names')
    databases.push(source)
    await source.client.query(`
      CREATE SCHEMA "x.y";
      CREATE SCHEMA x;
      CREATE TABLE "x.y".z (id int PRIMARY KEY, a text);
      CREATE TABLE x."y.z" (id int PRIMARY KEY, b int, c text);
      INSERT INTO "x.y".z VALUES (1, 'in x.y'), (2, 'also in x.y');
      INSERT INTO x."y.z" VALUES (10, 100, 'in x'), (11, 110, 'also in x'), (12, 120, 'x');
    `)
    snapshot = await snap(source.url)
  })

  afterAll(async () => {
    for (const db of databases) await db.drop().catch(() => undefined)
  })

  it('names each table so that it can be told apart and pasted back into --tables', async () => {
    expect(snapshot.manifest.tables.map(tableName).sort()).toEqual(['"x.y".z', 'x."y.z"'])
    const only = await snap(source.url, ['x."y.z"'])
    expect(only.manifest.tables.map((t) => [t.schema, t.name])).toEqual([['x', 'y.z']])
    expect(findTable(snapshot, '"x.y".z')).toMatchObject({ schema: 'x.y', name: 'z', rows: 2 })
    expect(() => findTable(snapshot, 'x.y.z')).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('names 2 tables') as string,
      }),
    )
  })

  it('exports both tables’ rows as NDJSON, with schema and name beside the table', async () => {
    const lines = (await exported(snapshot, { format: 'ndjson' }))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { table: string; schema: string; name: string })
    const count = (schema: string, name: string): number =>
      lines.filter((l) => l.schema === schema && l.name === name).length
    expect(lines).toHaveLength(5)
    expect(count('x.y', 'z')).toBe(2)
    expect(count('x', 'y.z')).toBe(3)
    expect(lines.find((l) => l.schema === 'x')!.table).toBe('x."y.z"')
  })

  it('exports an SQL script that psql loads into the same tables', async () => {
    const target = await createTestDatabase('dbsnap_it_names_sql')
    databases.push(target)
    const directory = mkdtempSync(join(tmpdir(), 'dbsnap-names-'))
    try {
      const file = join(directory, 'export.sql')
      writeFileSync(file, await exported(snapshot, { format: 'sql' }))
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', target.url, '-f', file], {
        stdio: 'pipe',
      })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
    const copy = await snap(target.url)
    expect(await rowChanges(snapshot, copy)).toEqual([])
    const { rows } = await target.client.query<{ c: string }>('SELECT c FROM x."y.z" ORDER BY id')
    expect(rows.map((r) => r.c)).toEqual(['in x', 'also in x', 'x'])
  })

  it('restores both tables, each with its own rows', async () => {
    const target = await createTestDatabase('dbsnap_it_names_restore')
    databases.push(target)
    const result = await restore(snapshot, target.url)
    expect(result.tables.map((t) => [t.table, t.schema, t.name, t.inserted]).sort()).toEqual([
      ['"x.y".z', 'x.y', 'z', 2],
      ['x."y.z"', 'x', 'y.z', 3],
    ])
    expect(await rowChanges(snapshot, await snap(target.url))).toEqual([])
  })

  it('diffs two snapshots with a change in one of the tables as exactly that change', async () => {
    await source.client.query(`UPDATE x."y.z" SET b = 111 WHERE id = 11`)
    const after = await snap(source.url)
    try {
      const diff = diffSnapshots({ repository, snapshot }, { repository, snapshot: after })
      const changes: RowChange[] = []
      for await (const change of diff.rowChanges()) changes.push(change)
      expect(changes).toEqual([
        expect.objectContaining({
          table: 'x."y.z"',
          schema: 'x',
          name: 'y.z',
          change: 'modified',
          key: [11],
          fields: [{ column: 'b', old: 110, new: 111 }],
        }),
      ])
      expect(diff.schema).toEqual([])
      expect(diff.tables.map((t) => [t.table, t.status]).sort()).toEqual([
        ['"x.y".z', 'unchanged'],
        ['x."y.z"', 'changed'],
      ])
    } finally {
      await source.client.query(`UPDATE x."y.z" SET b = 110 WHERE id = 11`)
    }
  })
})

describe('a collection whose name holds a dot (MongoDB)', () => {
  const { mongoUrl } = testServices()
  const name = `dbsnap_names_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  let client: MongoClient

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUrl)
    await client
      .db(name)
      .collection('a.b')
      .insertMany([{ _id: 1 as never, v: 'dotted' }])
    await client
      .db(name)
      .collection('b')
      .insertMany([{ _id: 1 as never, v: 'plain' }])
  })

  afterAll(async () => {
    await client?.db(name).dropDatabase()
    await client?.db(`${name}_copy`).dropDatabase()
    await client?.close()
  })

  it('is selected, exported and restored under its quoted name', async () => {
    const url = withDatabase(mongoUrl, name)
    const snapshot = await snap(url, ['"a.b"'])
    expect(snapshot.manifest.tables.map(tableName)).toEqual(['"a.b"'])
    expect(findTable(snapshot, 'a.b')).toBe(findTable(snapshot, '"a.b"'))
    const lines = (await exported(snapshot, { format: 'ndjson' })).trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line) as object)).toEqual([
      expect.objectContaining({ table: '"a.b"', schema: '', name: 'a.b' }),
    ])
    const result = await restore(snapshot, withDatabase(mongoUrl, `${name}_copy`), {
      tables: ['"a.b"'],
    })
    expect(result.tables.map((t) => [t.name, t.inserted])).toEqual([['a.b', 1]])
    const restored = await client.db(`${name}_copy`).collection('a.b').find().toArray()
    expect(restored).toEqual([{ _id: 1, v: 'dotted' }])
  })
})

describe('restore --only-changed of tables with names that read as patterns (PostgreSQL)', () => {
  let source: TestDatabase
  let snapshot: StoredSnapshot

  beforeAll(async () => {
    source = await createTestDatabase('dbsnap_it_names_changed')
    await source.client.query(`
      CREATE SCHEMA a;
      CREATE TABLE "*" (id int PRIMARY KEY, v text);
      CREATE TABLE "a.b" (id int PRIMARY KEY, v text);
      CREATE TABLE "we""ird" (id int PRIMARY KEY, v text);
      CREATE TABLE a.b (id int PRIMARY KEY, v text);
      CREATE TABLE other (id int PRIMARY KEY, v text);
      INSERT INTO "*" VALUES (1, 'star'), (2, 'star');
      INSERT INTO "a.b" VALUES (1, 'dotted'), (2, 'dotted');
      INSERT INTO "we""ird" VALUES (1, 'quoted'), (2, 'quoted');
      INSERT INTO a.b VALUES (1, 'schema a'), (2, 'schema a');
      INSERT INTO other VALUES (1, 'other'), (2, 'other');
    `)
    snapshot = await snap(source.url)
  })

  afterAll(async () => {
    await source?.drop()
  })

  async function onlyChanged(tables?: string[]): ReturnType<typeof restoreChangedRows> {
    const target = await connectTarget(source.url)
    try {
      return await restoreChangedRows({ repository, snapshot, target, url: source.url, tables })
    } finally {
      await target.close()
    }
  }

  async function damage(): Promise<void> {
    await source.client.query(`
      UPDATE "*" SET v = 'changed' WHERE id = 1;
      DELETE FROM "a.b" WHERE id = 2;
      INSERT INTO "we""ird" VALUES (3, 'added') ON CONFLICT DO NOTHING;
      UPDATE a.b SET v = 'changed' WHERE id = 2;
      UPDATE other SET v = 'changed' WHERE id = 2;
    `)
  }

  it('puts back exactly the table named *, not the schema it would glob', async () => {
    await damage()
    const result = await onlyChanged(['"*"'])
    expect(result.tables.map((t) => [t.table, t.schema, t.name, t.updated])).toEqual([
      ['public."*"', 'public', '*', 1],
    ])
    const { rows } = await source.client.query<{ v: string }>('SELECT v FROM other WHERE id = 2')
    expect(rows[0]!.v).toBe('changed')
  })

  it('puts back every table when none is chosen, names with dots and quotes too', async () => {
    await damage()
    const result = await onlyChanged()
    expect(result.tables.map((t) => [t.table, t.deleted]).sort()).toEqual(
      [
        ['public."*"', 0],
        ['public."a.b"', 0],
        ['public."we""ird"', 1],
        ['a.b', 0],
        ['public.other', 0],
      ].sort(),
    )
    expect(await rowChanges(snapshot, await snap(source.url))).toEqual([])
  })
})

describe('a left-out object whose name holds a line break (PostgreSQL SQL export)', () => {
  let source: TestDatabase
  let target: TestDatabase

  beforeAll(async () => {
    source = await createTestDatabase('dbsnap_it_names_comment')
    target = await createTestDatabase('dbsnap_it_names_comment_to')
    await source.client.query(`
      CREATE TABLE kept (id int PRIMARY KEY);
      CREATE TABLE gone (id int PRIMARY KEY);
      INSERT INTO kept VALUES (1);
      CREATE VIEW "v
DROP TABLE kept; --" AS SELECT id FROM gone;
    `)
  })

  afterAll(async () => {
    await source?.drop()
    await target?.drop()
  })

  it('names it in an escaped comment line, which stays a comment', async () => {
    const partial = await snap(source.url, ['kept'])
    const script = await exported(partial, { format: 'sql' })
    expect(script).toContain(
      '-- view public.v\\u000aDROP TABLE kept; -- left out: the snapshot does not hold public.gone, which it needs\n',
    )
    const directory = mkdtempSync(join(tmpdir(), 'dbsnap-names-'))
    try {
      const file = join(directory, 'export.sql')
      writeFileSync(file, script)
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', target.url, '-f', file], {
        stdio: 'pipe',
      })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
    const { rows } = await target.client.query<{ id: number }>('SELECT id FROM kept')
    expect(rows).toEqual([{ id: 1 }])
  })
})
