// `dbsnap snapshot / show / verify / forget / prune` on MongoDB (FerretDB here): every BSON type,
// mixed-type _id and a document near 16 MiB come back from the repository exactly as the driver
// reads them (type-exact, field order, bytes), and an unchanged database snapshots to no new chunk.

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BSON, MongoClient, type Db, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allTypesDocuments,
  insertExactly,
  type FixtureDocument,
  isFerretDb,
  largeDocument,
  mixedIdDocuments,
} from '../../engine/test/fixtures/mongo/all-types.js'
import { json, runCli } from '../../../test/cli.js'
import { testServices, withDatabase } from '../../../test/services.js'

const dbName = `dbsnap_it_mshow_${process.pid}_${randomBytes(3).toString('hex')}`

interface Shown {
  table: string
  columns: string[]
  key: string[] | null
  rows: string[][]
}

interface SnapshotJson {
  id: string
  totals: { tables: number; rows: number; chunks: number; newObjects: number; reusedChunks: number }
  warnings: string[]
}

/** What the driver reads, type-exact. */
const exact = { promoteValues: false, promoteBuffers: false, bsonRegExp: true } as const

describe('dbsnap on MongoDB: every BSON type', () => {
  const { mongoUrl } = testServices()
  const url = withDatabase(mongoUrl, dbName)
  let client: MongoClient
  let db: Db
  let repo: string
  let first: SnapshotJson

  const snapshot = async (): Promise<SnapshotJson> => {
    const run = await runCli(['snapshot', url, '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
    return json<SnapshotJson>(run)
  }

  const show = async (collection: string): Promise<Shown> => {
    const run = await runCli([
      'show',
      `${dbName}@latest`,
      '--repo',
      repo,
      '--table',
      collection,
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    return json<Shown>(run)
  }

  beforeAll(async () => {
    client = new MongoClient(url)
    await client.connect()
    db = client.db(dbName)
    const ferretdb = await isFerretDb(db)
    await db.collection<FixtureDocument>('all_types').insertMany(allTypesDocuments({ ferretdb }))
    await insertExactly(db, 'mixed_ids', mixedIdDocuments({ ferretdb }))
    await db.collection<FixtureDocument>('large').insertOne(largeDocument(16 * 1024 * 1024 - 64))
    await db
      .collection<FixtureDocument>('all_types')
      .createIndex({ 'nested.a.b.c.d': 1, bool: -1 }, { unique: true })
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-mshow-'))
    first = await snapshot()
  })

  afterAll(async () => {
    await db?.dropDatabase()
    await client?.close()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it.each(['all_types', 'mixed_ids', 'large'])(
    'show %s returns what the driver reads',
    async (collection) => {
      const shown = await show(collection)
      expect(shown.columns).toEqual(['_id', 'document'])
      expect(shown.key).toEqual(['_id'])
      const expected = await db
        .collection<FixtureDocument>(collection)
        .find({}, { sort: { _id: 1 }, ...exact })
        .toArray()
      const raw = (await db
        .collection<FixtureDocument>(collection)
        .find({}, { sort: { _id: 1 }, raw: true })
        .toArray()) as unknown as Buffer[]
      expect(shown.rows).toHaveLength(expected.length)
      expect(expected.length).toBeGreaterThan(0)
      shown.rows.forEach(([id, text], i) => {
        const parsed = BSON.EJSON.parse(text!, { relaxed: false }) as Document
        expect(parsed, `${collection} document ${i}`).toStrictEqual(expected[i])
        expect(Object.keys(parsed)).toEqual(Object.keys(expected[i]!))
        expect(
          Buffer.from(BSON.serialize(parsed)).equals(raw[i]!),
          `bytes of ${collection} document ${i}`,
        ).toBe(true)
        expect(BSON.EJSON.parse(id!, { relaxed: false })).toStrictEqual(expected[i]!._id)
      })
    },
  )

  it('shows one document by its _id', async () => {
    const byKey = async (table: string, key: string): Promise<string[][]> => {
      const run = await runCli([
        'show',
        `${dbName}@latest`,
        '--repo',
        repo,
        '--table',
        table,
        '--key',
        key,
        '--json',
      ])
      expect(run.code, run.stderr).toBe(0)
      return json<Shown>(run).rows
    }
    expect(await byKey('all_types', '{ "$numberInt": "8" }')).toEqual([
      ['{"$numberInt":"8"}', '{"_id":{"$numberInt":"8"},"present":null}'],
    ])
    expect((await byKey('mixed_ids', 'b')).map(([id]) => id)).toEqual(['"b"'])
    expect((await byKey('mixed_ids', 'null')).map(([id]) => id)).toEqual(['null'])
  })

  it('records the collections, their indexes and the consistency warning', async () => {
    expect(first.totals.tables).toBe(3)
    const run = await runCli(['show', `${dbName}@latest`, '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('all_types')
    if (await isFerretDb(db)) expect(first.warnings[0]).toMatch(/^FerretDB has no snapshot reads/)
  })

  it('writes no chunk for a second snapshot of the unchanged database', async () => {
    const second = await snapshot()
    expect(second.id).not.toBe(first.id)
    expect(second.totals.rows).toBe(first.totals.rows)
    // Only the new manifest: every chunk and chunk index is already stored.
    expect(second.totals.newObjects).toBe(0)
    expect(second.totals.reusedChunks).toBe(first.totals.chunks)
  })

  it('verifies every chunk, then forget and prune work as on PostgreSQL', async () => {
    const verified = await runCli([
      'verify',
      '--repo',
      repo,
      '--read-data-subset',
      '100%',
      '--json',
    ])
    expect(verified.code, verified.stdout).toBe(0)
    expect(json<{ problems: unknown[] }>(verified).problems).toEqual([])
    await db.command({ delete: 'mixed_ids', deletes: [{ q: { _id: 'a' }, limit: 1 }] })
    await snapshot()
    const forgot = json<{ prune: { objectsDeleted: number } }>(
      await runCli([
        'forget',
        '--repo',
        repo,
        '--keep-last',
        '1',
        '--prune',
        '--grace',
        '0s',
        '--json',
      ]),
    )
    // The first two snapshots' chunk of mixed_ids is referenced no more.
    expect(forgot.prune.objectsDeleted).toBeGreaterThan(0)
    const list = json<{ snapshots: unknown[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    expect(list.snapshots).toHaveLength(1)
    const after = await runCli(['verify', '--repo', repo, '--read-data-subset', '100%', '--json'])
    expect(json<{ problems: unknown[] }>(after).problems).toEqual([])
    const shown = await show('mixed_ids')
    expect(shown.rows.map(([id]) => id)).not.toContain('"a"')
  })
})
