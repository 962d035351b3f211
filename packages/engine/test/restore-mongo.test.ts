// Restoring MongoDB snapshots into a real server (FerretDB here): the exact round trip (every type
// it stores, indexes, capped options, field order), overwrite's plan, a collection created by an
// append with its indexes, and a restore that fails midway and is run again. What every engine's
// target does (refusals, untouched tables, on-conflict) is in conformance/target-conformance.ts.

import { randomBytes } from 'node:crypto'
import { Int32, MongoClient, type Db, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectMongoTarget } from '../src/adapters/mongo/mongo-target.js'
import type { TargetAdapter } from '../src/adapters/target-adapter.js'
import type { CanonicalRow } from '../src/canonical/value-encoding.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { isDbsnapError, type DbsnapError } from '../src/errors.js'
import { tableName } from '../src/schema/table-name.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot, type RestoreOptions } from '../src/restore/restore.js'
import { readSnapshotRows, tableRowsOf } from '../src/repository/snapshot-rows.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'
import {
  allTypesDocuments,
  insertExactly,
  isFerretDb,
  largeDocument,
  mixedIdDocuments,
  type FixtureDocument,
} from './fixtures/mongo/all-types.js'

const { mongoUrl } = testServices()
const run = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const databases: string[] = []

let client: MongoClient
let repository: Repository
let ferretdb: boolean

/** A fresh database name (MongoDB creates it on the first write); dropped after the tests. */
function freshDatabase(label: string): { db: Db; url: string } {
  const name = `dbsnap_rmongo_${run}_${label}`
  databases.push(name)
  return { db: client.db(name), url: withDatabase(mongoUrl, name) }
}

async function snapshot(url: string, tables?: string[]): Promise<StoredSnapshot> {
  const { id } = await createSnapshot({ source: url, repository, tables })
  return { id, manifest: await repository.readManifest(id) }
}

async function restore(
  snap: StoredSnapshot,
  url: string,
  options: Omit<RestoreOptions, 'repository' | 'snapshot' | 'target'> = {},
): Promise<Awaited<ReturnType<typeof restoreSnapshot>>> {
  const target = await connectMongoTarget(parseConnectionUrl(url), {})
  try {
    return await restoreSnapshot({ repository, snapshot: snap, target, ...options })
  } finally {
    await target.close()
  }
}

async function failure(promise: Promise<unknown>): Promise<DbsnapError> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return err
    throw err
  }
  throw new Error('expected a DbsnapError')
}

/** Each collection's documents in `_id` order, as the driver reads them (exact types). */
async function contents(db: Db): Promise<Record<string, Document[]>> {
  const out: Record<string, Document[]> = {}
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    out[name] = await db
      .collection(name)
      .find({}, { sort: { _id: 1 }, promoteValues: false })
      .toArray()
  }
  return out
}

async function chunkIds(snap: StoredSnapshot): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const entry of snap.manifest.tables) {
    out[tableName(entry)] = (await repository.readIndex(entry.index)).map((c) => c.id)
  }
  return out
}

/** `count` documents `{_id: i, n: i, tag}` from `first` on. */
function numbered(first: number, count: number, tag: string): FixtureDocument[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: new Int32(first + i),
    n: new Int32(first + i),
    tag,
  }))
}

beforeAll(async () => {
  client = new MongoClient(mongoUrl)
  await client.connect()
  ferretdb = await isFerretDb(client.db('admin'))
  repository = await Repository.open(new MemoryStorage(), { create: true })
})

afterAll(async () => {
  for (const name of databases) await client?.db(name).dropDatabase()
  await client?.close()
})

describe('round trip', () => {
  it('snapshot → restore into an empty database → snapshot gives the same chunks and an empty diff', async () => {
    const source = freshDatabase('rt_src')
    await source.db
      .collection<FixtureDocument>('all_types')
      .insertMany(allTypesDocuments({ ferretdb }))
    await insertExactly(source.db, 'mixed_ids', mixedIdDocuments({ ferretdb }))
    // Integer-like keys after others, nested too: a JavaScript object would reorder them.
    await insertExactly(source.db, 'key_order', [
      new Map<string, unknown>([
        ['_id', new Int32(1)],
        ['b', new Int32(1)],
        ['1', 'one'],
        [
          'a',
          new Map<string, unknown>([
            ['9', null],
            ['2', [new Map([['0', true]])]],
          ]),
        ],
      ]),
    ])
    const indexed = source.db.collection<FixtureDocument>('indexed')
    await indexed.insertMany(
      Array.from({ length: 2500 }, (_, i) => ({
        _id: new Int32(i),
        email: `user${i}@example.com`,
        total: new Int32(i % 97),
        tag: i % 3 === 0 ? null : `t${i % 7}`,
      })),
    )
    await indexed.createIndex({ email: 1 }, { unique: true })
    await indexed.createIndex({ total: -1, email: 1 }, { name: 'by_total' })
    await indexed.createIndex({ tag: 1, _id: -1 }, { name: 'by_tag', sparse: true })
    await source.db.createCollection('log', { capped: true, size: 65536, max: 100 })
    await source.db.collection<FixtureDocument>('log').insertMany(numbered(1, 10, 'log'))
    await source.db.createCollection('empty')
    await source.db
      .collection<FixtureDocument>('large')
      .insertOne(largeDocument(16 * 1024 * 1024 - 64))
    const a = await snapshot(source.url)
    expect(a.manifest.tables.map(tableName)).toEqual([
      'all_types',
      'empty',
      'indexed',
      'key_order',
      'large',
      'log',
      'mixed_ids',
    ])

    const copy = freshDatabase('rt_dst')
    const result = await restore(a, copy.url)
    expect(result.tables.map((t) => [t.table, t.status, t.inserted])).toEqual(
      a.manifest.tables.map((t) => [tableName(t), 'restored', t.rows]),
    )
    const b = await snapshot(copy.url)

    expect(await chunkIds(b)).toEqual(await chunkIds(a))
    const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
    expect(diff.schema).toEqual([])
    for await (const change of diff.rowChanges())
      expect.fail(`row change ${JSON.stringify(change)}`)
    expect(diff.tables.every((t) => t.status === 'unchanged')).toBe(true)
    const indexes = (await copy.db.collection('indexed').listIndexes().toArray()) as {
      name: string
      unique?: boolean
    }[]
    expect(indexes.map((i) => i.name).sort()).toEqual(['_id_', 'by_tag', 'by_total', 'email_1'])
    const log = await copy.db.listCollections({ name: 'log' }, { nameOnly: false }).toArray()
    expect(log[0]?.options).toMatchObject({ capped: true, size: 65536, max: 100 })
  })
})

describe('overwrite', () => {
  it('refuses a non-empty collection without force and leaves it as it was; with force replaces it', async () => {
    const source = freshDatabase('ow_src')
    await source.db.collection<FixtureDocument>('items').insertMany(numbered(1, 30, 'snap'))
    const snap = await snapshot(source.url)
    const { db, url } = freshDatabase('ow_dst')
    await db.collection<FixtureDocument>('items').insertMany(numbered(20, 30, 'live'))
    await db.collection<FixtureDocument>('items').createIndex({ tag: 1 })
    const live = await contents(db)

    const dry = await restore(snap, url, { dryRun: true, force: true })
    expect(dry.plan).toEqual([
      { action: 'drop collection', object: 'items', destructive: true },
      { action: 'create collection', object: 'items' },
      {
        action: 'load documents (not transactional: a failure keeps the documents written so far)',
        object: 'items',
      },
    ])
    const refused = await failure(restore(snap, url))
    expect(refused.code).toBe('TARGET_NOT_EMPTY')
    expect(refused.message).toContain('items (30 rows)')
    expect(await contents(db)).toEqual(live)

    const result = await restore(snap, url, { force: true })
    expect(result.tables[0]).toMatchObject({ before: { rows: 30 }, inserted: 30 })
    expect(await contents(db)).toEqual(await contents(source.db))
    const indexes = (await db.collection('items').listIndexes().toArray()) as {
      name: string
      unique?: boolean
    }[]
    expect(indexes.map((i) => i.name)).toEqual(['_id_'])
  })
})

describe('append', () => {
  it('creates a collection the target does not have, with its indexes', async () => {
    const source = freshDatabase('newcoll_src')
    await source.db.collection<FixtureDocument>('items').insertMany(numbered(1, 5, 'snap'))
    await source.db.collection('items').createIndex({ n: -1 }, { unique: true })
    const snap = await snapshot(source.url)
    const target = freshDatabase('newcoll_dst')
    const result = await restore(snap, target.url, { mode: 'append' })
    expect(result.tables[0]).toMatchObject({ before: null, inserted: 5 })
    expect(await contents(target.db)).toEqual(await contents(source.db))
    const indexes = (await target.db.collection('items').listIndexes().toArray()) as {
      name: string
      unique?: boolean
    }[]
    expect(indexes.map((i) => [i.name, i.unique ?? false])).toEqual([
      ['_id_', false],
      ['n_-1', true],
    ])
  })
})

describe('failure midway', () => {
  it('reports the error, and a rerun with force completes the collection exactly', async () => {
    const source = freshDatabase('mid_src')
    await source.db.collection<FixtureDocument>('items').insertMany(numbered(1, 3000, 'snap'))
    const snap = await snapshot(source.url)
    const entry = snap.manifest.tables[0]!
    const table = snap.manifest.schema.tables[0]!
    const { db, url } = freshDatabase('mid_dst')

    // The snapshot's rows, one at a time in batches of 500, failing after the third batch.
    async function* failing(): AsyncIterable<CanonicalRow[]> {
      let batches = 0
      let batch: CanonicalRow[] = []
      for await (const rows of readSnapshotRows(repository, entry)) {
        for (const row of rows) {
          batch.push(row)
          if (batch.length === 500) {
            yield batch
            batch = []
            if (++batches === 3) throw new Error('storage went away')
          }
        }
      }
    }
    const target: TargetAdapter = await connectMongoTarget(parseConnectionUrl(url), {})
    let reported = 0
    try {
      const err = await failure(
        target.restoreTable(table, tableRowsOf(failing()), {
          mode: 'overwrite',
          onConflict: 'fail',
          onRows: (rows) => (reported += rows),
        }),
      )
      expect(err.code).toBe('RESTORE_FAILED')
      expect(err.message).toContain('storage went away')
    } finally {
      await target.close()
    }
    // Not transactional: the documents of the first full batch (1000) were written.
    expect(reported).toBe(1000)
    expect(await db.collection('items').countDocuments({})).toBe(1000)

    const refused = await failure(restore(snap, url))
    expect(refused.code).toBe('TARGET_NOT_EMPTY')
    await restore(snap, url, { force: true })
    const again = await snapshot(url)
    expect(await chunkIds(again)).toEqual(await chunkIds(snap))
  })
})

describe('inspect and errors', () => {
  it('inspect counts exactly, and reports a missing collection', async () => {
    const { db, url } = freshDatabase('inspect')
    await db.collection<FixtureDocument>('items').insertMany(numbered(1, 1234, 'x'))
    const target = await connectMongoTarget(parseConnectionUrl(url), {})
    try {
      expect(
        await target.inspect([
          { schema: '', name: 'items' },
          { schema: '', name: 'missing' },
        ]),
      ).toEqual([
        {
          table: { schema: '', name: 'items' },
          exists: true,
          rows: 1234,
          columns: [
            { name: '_id', type: 'bson' },
            { name: 'document', type: 'document' },
          ],
        },
        { table: { schema: '', name: 'missing' }, exists: false, rows: 0, columns: null },
      ])
      const identity = await target.identify()
      expect(identity).toMatchObject({ engine: 'mongodb', database: db.databaseName })
    } finally {
      await target.close()
    }
  })

  it('needs the database in the URL', async () => {
    const err = await failure(connectMongoTarget(parseConnectionUrl(mongoUrl), {}))
    expect(err.code).toBe('INVALID_ARGUMENT')
  })
})

describe('restore of a snapshot taken with --tables', () => {
  it('leaves out, with a warning, a view on a collection the snapshot did not read', async () => {
    const source = freshDatabase('partial_src')
    await source.db.collection<FixtureDocument>('films').insertMany(numbered(1, 3, 'film'))
    await source.db.collection<FixtureDocument>('rentals').insertMany(numbered(1, 2, 'rental'))
    const taken = await snapshot(source.url, ['films'])
    // FerretDB cannot create views: the snapshot's schema gets the two a MongoDB server reports.
    const views = ['films', 'rentals'].map((on) => ({
      schema: '',
      name: `${on}_view`,
      materialized: false,
      definition: JSON.stringify({ viewOn: on, pipeline: [] }),
      columns: [],
      indexes: [],
      extra: { viewOn: on, collation: null },
    }))
    const partial: StoredSnapshot = {
      id: taken.id,
      manifest: { ...taken.manifest, schema: { ...taken.manifest.schema, views } },
    }
    const target = freshDatabase('partial_to')
    const result = await restore(partial, target.url)
    // The view on films is tried (FerretDB refuses it with a warning of its own); the other not.
    expect(result.warnings.filter((w) => w.includes('rentals_view'))).toEqual([
      'view rentals_view left out: the snapshot does not hold rentals, which it needs',
    ])
    expect(result.tables.map((t) => [t.name, t.inserted])).toEqual([['films', 3]])
    expect(Object.keys(await contents(target.db))).toContain('films')
  })
})
