import { describe, expect, it } from 'vitest'
import type { RowChange } from '../diff/diff-format.js'
import { diffOfChanges } from '../diff/diff.js'
import { saveDiff } from '../diff/saved-diff.js'
import { diffBlockKey } from '../repository/layout.js'
import { Repository } from '../repository/repository.js'
import { MemoryStorage } from '../storage/memory/memory-storage.js'
import { pruneRepository } from './prune.js'

describe('pruneRepository and saved diffs', () => {
  it('deletes saved-diff blocks no saved diff lists, and keeps the listed ones', async () => {
    const storage = new MemoryStorage()
    const repository = await Repository.open(storage, { create: true })
    const side = { snapshot: null, name: 'x', takenAt: '' }
    const changes: RowChange[] = [{ table: 't', change: 'added', key: [1], new: [1] }]
    const { saved } = await saveDiff(repository, diffOfChanges(changes, { from: side, to: side }))
    // What a `diff --save` that died before its saved diff leaves behind.
    const orphan = await repository.putDiffBlock(Buffer.from('{"x":1}\n'))
    const later = new Date(Date.now() + 60_000)
    const young = await pruneRepository(repository, { now: new Date() })
    expect(young).toMatchObject({ objectsDeleted: 0, objectsInGrace: 1 })
    const result = await pruneRepository(repository, { graceMs: 0, now: later })
    expect(result.objectsDeleted).toBe(1)
    expect(await storage.stat(diffBlockKey(orphan))).toBeNull()
    expect(await storage.stat(diffBlockKey(saved.blocks[0]!.id))).not.toBeNull()
  })
})
