// A repository is input someone else may have written. A chunk object replaced by another valid
// object (another chunk's frame, or other rows freshly compressed with a good zstd checksum)
// must fail restore, export, show, diff and verify with DATA_CORRUPT naming it, on a local
// directory and on S3 (MinIO): never be read as the snapshot's rows. The diff of consecutive
// snapshots proves a delta by its index entry and does not read its base (decision 0015).

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { testServices } from '../../../test/services.js'
import { connectTarget } from '../src/adapters/connect.js'
import type { RowChange } from '../src/diff/diff-format.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { exportSnapshot } from '../src/export/export.js'
import { rowsToColumnar } from '../src/repository/columnar.js'
import { makeDelta, type KeyedLine } from '../src/repository/delta.js'
import type { ChunkEntry } from '../src/repository/manifest.js'
import { decodeObject, encodeObject } from '../src/repository/object-format.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { objectKey } from '../src/repository/layout.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import { readSnapshotRows } from '../src/repository/snapshot-rows.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { bytesSource, FsStorage, S3Storage, type Storage } from '../src/storage/index.js'
import { verifyRepository } from '../src/verify/verify.js'

const databases: TestDatabase[] = []
let source: TestDatabase

beforeAll(async () => {
  source = await createTestDatabase('dbsnap_it_tampered')
  databases.push(source)
  // About 7 MB of rows: several chunks, so that one can stand in for another.
  await source.client.query(`
    CREATE TABLE items (id int PRIMARY KEY, name text, n numeric);
    INSERT INTO items SELECT i, repeat(md5(i::text), 3), i * 1.5 FROM generate_series(1, 60000) i;
    ANALYZE items;
  `)
})

afterAll(async () => {
  for (const db of databases) await db.drop().catch(() => undefined)
})

/** A fresh local directory or S3 prefix, and how to remove it. */
async function storageOf(
  kind: 'fs' | 's3',
): Promise<{ storage: Storage; remove: () => Promise<void> }> {
  if (kind === 'fs') {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-tampered-'))
    const storage = await FsStorage.open(join(dir, 'repo'), { create: true })
    return { storage, remove: () => rm(dir, { recursive: true, force: true }) }
  }
  const { s3 } = testServices()
  const prefix = `tampered-test/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const storage = new S3Storage(`s3://${s3.bucket}/${prefix}`, {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  })
  return {
    storage,
    remove: async () => {
      const keys: string[] = []
      for await (const object of storage.list('')) keys.push(object.key)
      await Promise.all(keys.map((key) => storage.delete(key)))
      await storage.close()
    },
  }
}

describe.each(['fs', 's3'] as const)('a tampered repository on %s storage', (kind) => {
  let remove: () => Promise<void>
  let storage: Storage
  let repository: Repository
  let a: StoredSnapshot
  let b: StoredSnapshot
  /** A chunk of `a` that `b` stores a delta over, the delta, and another chunk of `a`. */
  let base: ChunkEntry
  let delta: ChunkEntry
  let other: ChunkEntry

  const snap = async (): Promise<StoredSnapshot> => {
    const { id } = await createSnapshot({ source: source.url, repository })
    return { id, manifest: await repository.readManifest(id) }
  }
  const chunksOf = (snapshot: StoredSnapshot): Promise<ChunkEntry[]> =>
    repository.readIndex(snapshot.manifest.tables[0]!.index)

  beforeAll(async () => {
    const opened = await storageOf(kind)
    remove = opened.remove
    storage = opened.storage
    repository = await Repository.open(storage, { create: true })
    a = await snap()
    await source.client.query(`UPDATE items SET name = 'changed' WHERE id = 30000`)
    b = await snap()
    await source.client.query(`UPDATE items SET name = repeat(md5(id::text), 3) WHERE id = 30000`)
    const chunksA = await chunksOf(a)
    delta = (await chunksOf(b)).find((chunk) => chunk.deps !== undefined)!
    base = chunksA.find((chunk) => chunk.id === delta.deps![0])!
    other = chunksA.find((chunk) => chunk.id !== base.id)!
    expect([delta, base, other].every((chunk) => chunk !== undefined)).toBe(true)
  })

  afterAll(async () => {
    await remove?.()
  })

  /** `chunk`'s rows with one value changed, compressed afresh: a valid frame, the same row count. */
  const forged = async (chunk: ChunkEntry): Promise<Uint8Array> => {
    const lines = await repository.readLines(chunk.id)
    lines[0] = lines[0]!.replace(/"[0-9a-f]{8}/, '"deadbeef')
    const content = Buffer.from(lines.map((line) => `${line}\n`).join(''))
    const payload = rowsToColumnar(content, lines.length, 3)
    return encodeObject('data', { name: 'zstd', level: 3 }, payload, { columnar: true })
  }

  /** Runs `check` with `chunk`'s object replaced by `bytes`, then puts the original back. */
  const whileReplaced = async (
    chunk: ChunkEntry,
    bytes: Uint8Array,
    check: () => Promise<void>,
  ): Promise<void> => {
    const key = objectKey(chunk.id)
    const original = await storage.get(key)
    await storage.put(key, bytesSource(bytes))
    try {
      await check()
    } finally {
      await storage.put(key, bytesSource(original))
    }
  }

  const corrupt = (chunk: ChunkEntry): unknown =>
    expect.objectContaining({
      code: 'DATA_CORRUPT',
      details: expect.objectContaining({ object: objectKey(chunk.id) }) as unknown,
    })

  const consume = async (items: AsyncIterable<unknown>): Promise<void> => {
    for await (const item of items) void item
  }

  const readers: [string, (snapshot: StoredSnapshot) => Promise<unknown>][] = [
    [
      'restore',
      async (snapshot) => {
        const db = await createTestDatabase('dbsnap_it_tampered_restore')
        databases.push(db)
        const target = await connectTarget(db.url)
        try {
          return await restoreSnapshot({ repository, snapshot, target })
        } finally {
          await target.close()
        }
      },
    ],
    ['export', (snapshot) => consume(exportSnapshot({ repository, snapshot, format: 'ndjson' }))],
    ['show', (snapshot) => consume(readSnapshotRows(repository, snapshot.manifest.tables[0]!))],
  ]

  const tamperings: [string, () => Promise<Uint8Array>][] = [
    ["another chunk's frame", () => storage.get(objectKey(other.id))],
    ['other rows freshly compressed', () => forged(base)],
    ["the next snapshot's delta of the chunk", () => storage.get(objectKey(delta.id))],
  ]

  describe.each(tamperings)('a chunk replaced by %s', (_name, bytes) => {
    it.each(readers)('fails %s with DATA_CORRUPT', async (_reader, read) => {
      await whileReplaced(base, await bytes(), async () => {
        await expect(read(a)).rejects.toEqual(corrupt(base))
      })
    })

    it('leaves the diff exact: it proves the delta by its index entry, not by the chunk', async () => {
      await whileReplaced(base, await bytes(), async () => {
        const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
        const changes: RowChange[] = []
        for await (const change of diff.rowChanges()) changes.push(change)
        expect(changes.map((change) => [change.change, change.key])).toEqual([
          ['modified', [30000]],
        ])
      })
    })

    it('is found by verify --read-data-subset 100%', async () => {
      await whileReplaced(base, await bytes(), async () => {
        const result = await verifyRepository(repository, { readDataSubset: { percent: 100 } })
        expect(result.problems).toEqual([
          expect.objectContaining({ object: objectKey(base.id), code: 'DATA_CORRUPT' }),
        ])
      })
    })
  })

  it('fails the diff when the delta is replaced by another valid script over its base', async () => {
    const lines = await repository.readLines(base.id)
    const forged = lines.map((line, i) =>
      i === 0 ? line.replace(/"[0-9a-f]{8}/, '"deadbeef') : line,
    )
    const keyed = (rows: string[]): KeyedLine[] => rows.map((line) => ({ line, key: line }))
    const script = makeDelta(keyed(lines), keyed(forged), Infinity)!
    const bytes = encodeObject('data', { name: 'zstd', level: 3 }, Buffer.from(script), {
      base: { id: base.id, depth: 1 },
    })
    await whileReplaced(delta, bytes, async () => {
      const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
      await expect(consume(diff.rowChanges())).rejects.toEqual(corrupt(delta))
    })
  })

  it('finds a delta whose stored bytes are not the ones its index entry records', async () => {
    // The same script compressed afresh: it still applies to its base and makes the chunk's
    // content, so only the `script` hash of its index entry tells it from the one the snapshot
    // wrote, and the diff, which trusts that hash instead of the base, refuses it.
    expect(delta.script).toBeDefined()
    const stored = await storage.get(objectKey(delta.id))
    const { header, payload } = decodeObject(stored, 'delta')
    const bytes = encodeObject('data', { name: 'gzip', level: 9 }, payload, {
      base: header.base!,
    })
    await whileReplaced(delta, bytes, async () => {
      const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
      await expect(consume(diff.rowChanges())).rejects.toEqual(corrupt(delta))
      const result = await verifyRepository(repository, { readDataSubset: { percent: 100 } })
      expect(result.problems).toEqual([
        expect.objectContaining({
          object: objectKey(delta.id),
          code: 'DATA_CORRUPT',
          snapshots: [b.id],
        }),
      ])
    })
  })

  it('fails the diff when the delta is replaced by other rows freshly compressed', async () => {
    const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
    const changes: unknown[] = []
    for await (const change of diff.rowChanges()) changes.push(change)
    expect(changes).toHaveLength(1)
    const lines = await repository.readLines(delta.id)
    lines[0] = lines[0]!.replace(/"[0-9a-f]{8}/, '"deadbeef')
    const content = Buffer.from(lines.map((line) => `${line}\n`).join(''))
    const bytes = encodeObject(
      'data',
      { name: 'zstd', level: 3 },
      rowsToColumnar(content, lines.length, 3),
      { columnar: true },
    )
    await whileReplaced(delta, bytes, async () => {
      const again = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
      await expect(consume(again.rowChanges())).rejects.toEqual(corrupt(delta))
    })
  })
})
