import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import type { CanonicalRow } from '../canonical/value-encoding.js'
import type { ChunkingParams } from '../repository/chunking.js'
import type { CodecSpec } from '../repository/codec.js'
import type { ChunkEntry, SnapshotManifest, TableEntry } from '../repository/manifest.js'
import { Repository, type StoredSnapshot } from '../repository/repository.js'
import { objectKey } from '../repository/layout.js'
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../schema/schema.js'
import { TableWriter } from '../snapshot/table-writer.js'
import { MemoryStorage } from '../storage/memory/memory-storage.js'
import { bytesSource } from '../storage/storage.js'
import type { RowChange } from './diff-format.js'
import { diffSnapshots } from './diff.js'

/** Small chunks, so a few hundred rows make dozens of chunks and regions. */
const CHUNKING: ChunkingParams = { targetBytes: 512, minBytes: 128, maxBytes: 2048 }

interface TableSpec {
  name: string
  columns: { name: string; type?: string }[]
  key: string[] | null
  rows: CanonicalRow[]
}

let storage: MemoryStorage
let repository: Repository

beforeEach(async () => {
  storage = new MemoryStorage()
  repository = await Repository.open(storage, { create: true })
})

function column(name: string, type = 'text'): ColumnSchema {
  return {
    name,
    type,
    encoding: type === 'integer' ? 'integer' : 'text',
    nullable: true,
    default: null,
    generated: null,
    identity: null,
    collation: null,
  }
}

function tableSchema(spec: TableSpec): TableSchema {
  return {
    schema: 'public',
    name: spec.name,
    kind: 'table',
    columns: spec.columns.map((c) => column(c.name, c.type)),
    primaryKey: spec.key === null ? null : { name: `${spec.name}_pkey`, columns: spec.key },
    uniqueKeys: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    triggers: [],
    partitionOf: null,
    partitionBy: null,
    comment: null,
    estimatedRows: null,
    estimatedBytes: null,
  }
}

/**
 * Stores the tables' rows the way a snapshot does and returns the snapshot (not committed). With
 * `after`, changed chunks are stored as deltas over that snapshot's, as a real snapshot does.
 */
async function snapshotOf(
  name: string,
  specs: TableSpec[],
  after?: StoredSnapshot,
  codec: CodecSpec = { name: 'none', level: 0 },
): Promise<StoredSnapshot> {
  const tables: TableEntry[] = []
  for (const spec of specs) {
    const columns = spec.columns.map((c) => c.name)
    const prior = after?.manifest.tables.find((t) => t.name === spec.name)
    const previous = prior === undefined ? [] : await repository.readIndex(prior.index)
    const writer = new TableWriter({
      repository,
      codec,
      chunking: CHUNKING,
      chunkBits: 2,
      columnCount: columns.length,
      keyColumns: spec.key === null ? null : spec.key.map((k) => columns.indexOf(k)),
      previous,
      concurrency: 2,
    })
    await writer.add(spec.rows)
    const chunks = await writer.finish()
    const index = await repository.putObject(
      'index',
      Buffer.from(chunks.map((c) => `${JSON.stringify(c)}\n`).join('')),
    )
    tables.push({
      schema: 'public',
      name: spec.name,
      columns,
      key: spec.key,
      chunkBits: 2,
      rows: spec.rows.length,
      bytes: writer.bytes,
      chunks: chunks.length,
      index: index.id,
    })
  }
  const schema: DatabaseSchema = {
    engine: 'postgres',
    schemas: ['public'],
    tables: specs.map(tableSchema),
    views: [],
    routines: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    extensions: [],
  }
  const manifest = { name, source: { engine: 'postgres' }, startedAt: '', schema, tables }
  return { id: name, manifest: manifest as unknown as SnapshotManifest }
}

async function changesBetween(
  a: StoredSnapshot,
  b: StoredSnapshot,
): Promise<{ changes: RowChange[]; diff: ReturnType<typeof diffSnapshots> }> {
  const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
  const changes: RowChange[] = []
  for await (const change of diff.rowChanges()) changes.push(change)
  return { changes, diff }
}

const ITEMS = [{ name: 'id', type: 'integer' }, { name: 'name' }, { name: 'doc', type: 'jsonb' }]
const item = (id: number, version = 0): CanonicalRow => [
  id,
  `item ${id} v${version}`,
  JSON.stringify({ id, tags: ['a', 'b'], nested: { version } }),
]
const items = (rows: CanonicalRow[]): TableSpec => ({
  name: 'items',
  columns: ITEMS,
  key: ['id'],
  rows,
})

describe('diffSnapshots: data', () => {
  it('reads no row of identical snapshots', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => item(i + 1))
    const a = await snapshotOf('a', [items(rows)])
    const b = await snapshotOf('b', [items(rows)])
    const { changes, diff } = await changesBetween(a, b)
    expect(changes).toEqual([])
    expect(diff.tables[0]).toMatchObject({ status: 'unchanged', chunksRead: 0 })
    expect(diff.summary().equal).toBe(true)
  })

  it('reads only the chunks around a change and reports the field, with a JSON patch', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => item(i + 1))
    const changed = rows.map((row) => (row[0] === 250 ? item(250, 1) : row))
    const a = await snapshotOf('a', [items(rows)])
    const b = await snapshotOf('b', [items(changed)])
    const { changes, diff } = await changesBetween(a, b)
    expect(changes).toEqual([
      {
        table: 'public.items',
        schema: 'public',
        name: 'items',
        change: 'modified',
        key: [250],
        old: item(250),
        new: item(250, 1),
        fields: [
          { column: 'name', old: 'item 250 v0', new: 'item 250 v1' },
          {
            column: 'doc',
            old: item(250)[2],
            new: item(250, 1)[2],
            patch: [{ op: 'replace', path: '/nested/version', value: 1 }],
          },
        ],
      },
    ])
    const table = diff.tables[0]!
    expect(table.chunksRead).toBeLessThanOrEqual(4)
    expect(table.chunksSkipped).toBeGreaterThan(20)
    expect(diff.summary()).toMatchObject({ equal: false, rows: { modified: 1 } })
  })

  it.each([
    ['stored in full', false],
    ['stored as deltas', true],
  ])(
    'reports exactly random inserts, updates and deletes (changed chunks %s)',
    async (_, deltas) => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 0, maxLength: 300 }),
          fc.array(
            fc.record({
              op: fc.constantFrom('insert', 'update', 'delete'),
              id: fc.integer({ min: 1, max: 450 }),
            }),
            { maxLength: 60 },
          ),
          async (ids, operations) => {
            const before = new Map(ids.sort((x, y) => x - y).map((id) => [id, item(id)]))
            const after = new Map(before)
            for (const { op, id } of operations) {
              if (op === 'insert' && !after.has(id)) after.set(id, item(id, 2))
              if (op === 'update' && after.has(id)) after.set(id, item(id, 3))
              if (op === 'delete') after.delete(id)
            }
            const sorted = (m: Map<number, CanonicalRow>): CanonicalRow[] =>
              [...m].sort(([x], [y]) => x - y).map(([, row]) => row)
            const a = await snapshotOf('a', [items(sorted(before))])
            const b = await snapshotOf('b', [items(sorted(after))], deltas ? a : undefined)
            const { changes } = await changesBetween(a, b)
            // Exactly the differences, each once.
            const expected = new Set<string>()
            for (const id of new Set([...before.keys(), ...after.keys()])) {
              const x = before.get(id)
              const y = after.get(id)
              if (x === undefined) expected.add(`added ${id}`)
              else if (y === undefined) expected.add(`removed ${id}`)
              else if (JSON.stringify(x) !== JSON.stringify(y)) expected.add(`modified ${id}`)
            }
            const reported = changes.map((c) => `${c.change} ${String(c.key?.[0])}`)
            expect(reported.length).toBe(expected.size)
            expect(new Set(reported)).toEqual(expected)
            // Applying them to a gives b.
            const applied = new Map(before)
            for (const change of changes) {
              const id = change.key![0] as number
              if (change.change === 'removed') applied.delete(id)
              else applied.set(id, change.new!)
            }
            expect(sorted(applied)).toEqual(sorted(after))
          },
        ),
        { numRuns: 60 },
      )
    },
  )

  it('reads the edit script of a chunk stored as a delta instead of the whole chunk', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => item(i + 1))
    const a = await snapshotOf('a', [items(rows)])
    const changed = rows.map((row) => (row[0] === 250 ? item(250, 1) : row))
    const b = await snapshotOf('b', [items(changed)], a)
    const chunks = await repository.readIndex(b.manifest.tables[0]!.index)
    const delta = chunks.find((c) => c.deps !== undefined)
    expect(delta?.deps?.[0]).toBeDefined()
    const script = await repository.readDelta(delta!.id)
    expect(script?.base.id).toBe(delta!.deps![0])
    const { changes } = await changesBetween(a, b)
    expect(changes.map((c) => [c.change, c.key, c.fields?.map((f) => f.column)])).toEqual([
      ['modified', [250], ['name', 'doc']],
    ])
  })

  /** Snapshots `a` and `b` of 500 items, `b` with one removed, one modified, one added. */
  const editedPair = async (): Promise<{ a: StoredSnapshot; b: StoredSnapshot }> => {
    const zstd: CodecSpec = { name: 'zstd', level: 3 }
    const rows = Array.from({ length: 500 }, (_, i) => item(i + 1))
    const a = await snapshotOf('a', [items(rows)], undefined, zstd)
    const changed = rows
      .filter((row) => row[0] !== 120)
      .map((row) => (row[0] === 250 ? item(250, 1) : row))
    const b = await snapshotOf('b', [items([...changed, item(501)])], a, zstd)
    return { a, b }
  }
  const EDITS = [
    ['removed', [120]],
    ['modified', [250]],
    ['added', [501]],
  ]
  const deltasOf = async (snapshot: StoredSnapshot): Promise<ChunkEntry[]> =>
    (await repository.readIndex(snapshot.manifest.tables[0]!.index)).filter(
      (c) => c.deps !== undefined,
    )

  it('proves an edit script by the hash its index entry records: the diff reads no base', async () => {
    const { a, b } = await editedPair()
    const deltas = await deltasOf(b)
    expect(deltas.length).toBeGreaterThan(0)
    expect(deltas.every((c) => c.script !== undefined)).toBe(true)
    // Without their bases, the scripts are still proven (decision 0015).
    for (const chunk of deltas) await storage.delete(objectKey(chunk.deps![0]!))
    const { changes, diff } = await changesBetween(a, b)
    expect(changes.map((c) => [c.change, c.key])).toEqual(EDITS)
    expect(diff.tables[0]!.chunksRead).toBe(deltas.length)
  })

  it('proves an edit script against its base when its index entry lacks the hash', async () => {
    const { a, b } = await editedPair()
    const deltas = await deltasOf(b)
    // b's index as a DBSnap from before the hash wrote it.
    const chunks = await repository.readIndex(b.manifest.tables[0]!.index)
    const lines = chunks.map(({ script: _script, ...chunk }) => `${JSON.stringify(chunk)}\n`)
    const index = await repository.putObject('index', Buffer.from(lines.join('')))
    const old: StoredSnapshot = {
      id: 'b-old',
      manifest: { ...b.manifest, tables: [{ ...b.manifest.tables[0]!, index: index.id }] },
    }
    const { changes, diff } = await changesBetween(a, old)
    expect(changes.map((c) => [c.change, c.key])).toEqual(EDITS)
    expect(diff.tables[0]!.chunksRead).toBe(2 * deltas.length)
    // A script alone proves nothing: without its base the diff fails.
    for (const chunk of deltas) await storage.delete(objectKey(chunk.deps![0]!))
    await expect(changesBetween(a, old)).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' })
  })

  it('fails with DATA_CORRUPT when a delta is swapped for another script over its base', async () => {
    const { a, b } = await editedPair()
    const rows = Array.from({ length: 500 }, (_, i) => (i === 249 ? item(250, 2) : item(i + 1)))
    const c = await snapshotOf('c', [items(rows)], a, { name: 'zstd', level: 3 })
    const holds250 = (chunk: ChunkEntry): boolean =>
      Number(chunk.first![0]) <= 250 && Number(chunk.last![0]) >= 250
    const delta = (await deltasOf(b)).find(holds250)!
    const other = (await deltasOf(c)).find((chunk) => chunk.deps![0] === delta.deps![0])!
    expect(other.id).not.toBe(delta.id)
    const key = objectKey(delta.id)
    await storage.put(key, bytesSource(await storage.get(objectKey(other.id))))
    await expect(changesBetween(a, b)).rejects.toMatchObject({
      code: 'DATA_CORRUPT',
      details: { object: key },
    })
  })

  it('carries the script hash along when a snapshot reuses a delta', async () => {
    const { b } = await editedPair()
    const rows = Array.from({ length: 500 }, (_, i) => item(i + 1))
      .filter((row) => row[0] !== 120)
      .map((row) => (row[0] === 250 ? item(250, 1) : row))
    const c = await snapshotOf('c', [items([...rows, item(501)])], b, { name: 'zstd', level: 3 })
    expect(c.manifest.tables[0]!.index).toBe(b.manifest.tables[0]!.index)
    const deltas = await deltasOf(c)
    expect(deltas.length).toBeGreaterThan(0)
    expect(deltas.every((chunk) => chunk.script !== undefined)).toBe(true)
  })

  it('diffs a table without a key as a multiset', async () => {
    const spec = (rows: CanonicalRow[]): TableSpec => ({
      name: 'log',
      columns: [{ name: 'line' }],
      key: null,
      rows,
    })
    const rows = Array.from({ length: 300 }, (_, i) => [`line ${i % 100}`])
    const a = await snapshotOf('a', [spec(rows)])
    const b = await snapshotOf('b', [spec([...rows.slice(0, 299), ['line new']])])
    const { changes } = await changesBetween(a, b)
    expect(changes.map((c) => [c.change, c.old ?? c.new])).toEqual(
      expect.arrayContaining([
        ['added', ['line new']],
        ['removed', ['line 99']],
      ]),
    )
    expect(changes).toHaveLength(2)
  })

  it('reports every row of an added and of a removed table', async () => {
    const a = await snapshotOf('a', [
      { name: 'old', columns: [{ name: 'id', type: 'integer' }], key: ['id'], rows: [[1], [2]] },
    ])
    const b = await snapshotOf('b', [items([item(1)])])
    const { changes, diff } = await changesBetween(a, b)
    expect(changes.map((c) => `${c.table} ${c.change} ${JSON.stringify(c.key)}`)).toEqual([
      'public.items added [1]',
      'public.old removed [1]',
      'public.old removed [2]',
    ])
    expect(diff.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.items', 'added'],
      ['public.old', 'removed'],
    ])
    // The names of `old` and `new` rows' columns: null on the side without the table.
    expect(diff.tables.map((t) => t.columns)).toEqual([
      { key: ['id'], old: null, new: ITEMS.map((c) => c.name) },
      { key: ['id'], old: ['id'], new: null },
    ])
  })

  it('compares the columns both sides have when a column was added', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => item(i + 1))
    const a = await snapshotOf('a', [items(rows)])
    const wider: TableSpec = {
      name: 'items',
      columns: [...ITEMS, { name: 'extra' }],
      key: ['id'],
      rows: rows.map((row) => [...row, row[0] === 7 ? 'x' : null]),
    }
    wider.rows[2] = [3, 'renamed', item(3)[2]!, null]
    const b = await snapshotOf('b', [wider])
    const { changes, diff } = await changesBetween(a, b)
    expect(changes.map((c) => [c.change, c.key, c.fields?.map((f) => f.column)])).toEqual([
      ['modified', [3], ['name']],
    ])
    expect(diff.schema.map((s) => `${s.kind} ${s.change} ${s.object}`)).toEqual([
      'column added public.items.extra',
    ])
    expect(diff.tables[0]!.columns).toEqual({
      key: ['id'],
      old: ITEMS.map((c) => c.name),
      new: [...ITEMS.map((c) => c.name), 'extra'],
    })
  })
})

describe('diffSnapshots: schema', () => {
  it('reports a renamed column only on solid evidence', async () => {
    const base = items([item(1)])
    const renamed: TableSpec = {
      ...base,
      columns: [ITEMS[0]!, { name: 'title' }, ITEMS[2]!],
    }
    const a = await snapshotOf('a', [base])
    const b = await snapshotOf('b', [renamed])
    const { diff } = await changesBetween(a, b)
    expect(diff.schema).toMatchObject([
      {
        kind: 'column',
        change: 'renamed',
        object: 'public.items.title',
        from: 'public.items.name',
      },
    ])
    // Two columns gone and two new: no guessing.
    const twoNew: TableSpec = {
      ...base,
      columns: [ITEMS[0]!, { name: 'title' }, { name: 'body', type: 'jsonb' }],
    }
    const c = await snapshotOf('c', [twoNew])
    const second = await changesBetween(a, c)
    expect(second.diff.schema.map((s) => `${s.change} ${s.object}`)).toEqual([
      'removed public.items.name',
      'removed public.items.doc',
      'added public.items.title',
      'added public.items.body',
    ])
  })

  it('ignores what changes without a schema change (estimates)', async () => {
    const a = await snapshotOf('a', [items([item(1)])])
    const b = await snapshotOf('b', [items([item(1)])])
    b.manifest.schema.tables[0]!.estimatedRows = 12345
    const { diff } = await changesBetween(a, b)
    expect(diff.schema).toEqual([])
  })

  it("ignores a MySQL table's next AUTO_INCREMENT value, not a column's AUTO_INCREMENT", async () => {
    const a = await snapshotOf('a', [items([item(1)])])
    const b = await snapshotOf('b', [items([item(1)])])
    a.manifest.schema.tables[0]!.extra = { autoIncrement: '8' }
    b.manifest.schema.tables[0]!.extra = { autoIncrement: '90001' }
    expect((await changesBetween(a, b)).diff.schema).toEqual([])
    b.manifest.schema.tables[0]!.columns[0]!.extra = { autoIncrement: true }
    const { diff } = await changesBetween(a, b)
    expect(diff.schema.map((c) => [c.kind, c.change])).toEqual([['column', 'changed']])
  })
})
