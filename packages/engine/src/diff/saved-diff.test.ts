import { beforeEach, describe, expect, it } from 'vitest'
import { diffBlockKey } from '../repository/layout.js'
import { Repository } from '../repository/repository.js'
import { MemoryStorage } from '../storage/memory/memory-storage.js'
import { bytesSource } from '../storage/storage.js'
import type { RowChange, RowChangeKind } from './diff-format.js'
import { diffOfChanges, type SnapshotDiff } from './diff.js'
import { BLOCK_CHANGES, queryDiffPage, readSavedDiff, saveDiff } from './saved-diff.js'

const KINDS: RowChangeKind[] = ['added', 'removed', 'modified']

/** A diff of `perTable` changes in each table: kinds in turn, key = index. */
function fakeDiff(tables: string[], perTable: number): SnapshotDiff {
  const changes: RowChange[] = tables.flatMap((table) =>
    Array.from({ length: perTable }, (_, i): RowChange => {
      const change = KINDS[i % 3]!
      const row = [i, `value ${i} of ${table}`]
      return change === 'added'
        ? { table, change, key: [i], new: row }
        : change === 'removed'
          ? { table, change, key: [i], old: row }
          : { table, change, key: [i], old: row, new: [i, 'new'], fields: [] }
    }),
  )
  const side = { snapshot: 'a'.repeat(64), name: 'shop', takenAt: '2026-11-25T00:00:00.000Z' }
  return diffOfChanges(changes, { from: side, to: side })
}

let storage: MemoryStorage
let repository: Repository

beforeEach(async () => {
  storage = new MemoryStorage()
  repository = await Repository.open(storage, { create: true })
})

describe('saved diffs', () => {
  it('stores changes in blocks of one table and reads them back by id prefix', async () => {
    const { id, saved } = await saveDiff(repository, fakeDiff(['a', 'b'], BLOCK_CHANGES + 10))
    expect(saved.blocks.map((b) => [b.table, b.added + b.removed + b.modified])).toEqual([
      ['a', BLOCK_CHANGES],
      ['a', 10],
      ['b', BLOCK_CHANGES],
      ['b', 10],
    ])
    expect(await repository.listSavedDiffIds()).toEqual([id])
    expect((await readSavedDiff(repository, id.slice(0, 6))).saved).toEqual(saved)
  })

  it('pages through all changes in order, across blocks', async () => {
    const { saved } = await saveDiff(repository, fakeDiff(['a', 'b'], 2500))
    const seen: string[] = []
    for (let page = 1; ; page++) {
      const result = await queryDiffPage(repository, saved, { page, pageSize: 300 })
      expect(result.total).toBe(5000)
      if (result.changes.length === 0) break
      seen.push(...result.changes.map((c) => `${c.table}${String(c.key?.[0])}`))
    }
    expect(seen).toHaveLength(5000)
    expect(seen.slice(2499, 2501)).toEqual(['a2499', 'b0'])
    expect(new Set(seen).size).toBe(5000)
  })

  it('filters by table and kind from the block counts, and searches values', async () => {
    const { saved } = await saveDiff(repository, fakeDiff(['a', 'b'], 2500))
    const removedOfB = await queryDiffPage(repository, saved, {
      table: 'b',
      change: 'removed',
      page: 3,
      pageSize: 100,
    })
    expect(removedOfB.total).toBe(833)
    expect(removedOfB.changes.every((c) => c.table === 'b' && c.change === 'removed')).toBe(true)
    expect(removedOfB.changes[0]?.key).toEqual([601])
    const found = await queryDiffPage(repository, saved, { search: 'VALUE 1234 OF B' })
    expect(found.changes.map((c) => [c.table, c.key])).toEqual([['b', [1234]]])
    expect(found.total).toBeNull()
  })

  it('finds the right line after text whose lower case is longer', async () => {
    const side = { snapshot: null, name: 'x', takenAt: '' }
    const changes: RowChange[] = [
      { table: 't', change: 'added', key: [1], new: [1, 'İİİİ Istanbul'] },
      { table: 't', change: 'added', key: [2], new: [2, 'plain'] },
      { table: 't', change: 'added', key: [3], new: [3, 'target'] },
    ]
    const diff = diffOfChanges(changes, { from: side, to: side })
    const { saved } = await saveDiff(repository, diff)
    const found = await queryDiffPage(repository, saved, { search: 'TARGET' })
    expect(found.changes.map((c) => c.key)).toEqual([[3]])
    const all = await queryDiffPage(repository, saved, { search: 'TAB' })
    expect(all.changes.map((c) => c.key)).toEqual([[1], [2], [3]])
  })

  it('refuses an unknown id with DIFF_NOT_FOUND and a malformed one with INVALID_ARGUMENT', async () => {
    await expect(readSavedDiff(repository, 'abcd')).rejects.toMatchObject({
      code: 'DIFF_NOT_FOUND',
    })
    await expect(readSavedDiff(repository, 'xyz')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })

  it('refuses a block that does not match its id', async () => {
    const { saved } = await saveDiff(repository, fakeDiff(['a'], 10))
    const key = diffBlockKey(saved.blocks[0]!.id)
    const other = await repository.putDiffBlock(Buffer.from('{}\n'))
    await storage.put(key, bytesSource(await storage.get(diffBlockKey(other))))
    await expect(queryDiffPage(repository, saved)).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
  })
})
