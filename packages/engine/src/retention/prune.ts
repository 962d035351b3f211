// `prune`: frees the space of forgotten snapshots and of crashed runs. Under an exclusive lock it
// deletes only objects no snapshot references (directly or as a delta base), and saved-diff
// blocks no saved diff lists, that are older than a grace period, so an object a concurrent
// writer has just stored is never taken.

import { DbsnapError, isDbsnapError, throwIfAborted } from '../errors.js'
import type { Repository, StoredObjectInfo } from '../repository/repository.js'

export interface PruneOptions {
  /** Unreferenced objects younger than this are kept. Default one hour. */
  graceMs?: number
  dryRun?: boolean
  signal?: AbortSignal
  /**
   * Cumulative: snapshots whose objects are listed (`referencing`), then objects deleted
   * (`deleting`, of `total` to delete).
   */
  onProgress?: (event: { phase: 'referencing' | 'deleting'; done: number; total: number }) => void
  now?: Date
}

export interface PruneResult {
  snapshots: number
  objectsReferenced: number
  objectsDeleted: number
  bytesFreed: number
  /** Unreferenced objects kept because they are younger than the grace period. */
  objectsInGrace: number
  /** Leftover temporary files of interrupted writes that were removed. */
  temporaryFilesDeleted: number
  /**
   * Lock objects of crashed or hung runs (not refreshed for 30 minutes, or of a dead process on
   * this host) removed when taking the exclusive lock, even with `dryRun`.
   */
  staleLocksDeleted: number
}

export const DEFAULT_PRUNE_GRACE_MS = 60 * 60 * 1000

export async function pruneRepository(
  repository: Repository,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const { signal } = options
  const now = options.now ?? new Date()
  const cutoff = now.getTime() - (options.graceMs ?? DEFAULT_PRUNE_GRACE_MS)
  const lock = await repository.lock('exclusive', 'prune', { signal })
  try {
    // One unreadable manifest and we cannot know what it references: delete nothing.
    const snapshots = await repository.listSnapshots({ signal })
    const referenced = new Set<string>()
    let listed = 0
    for (const snapshot of snapshots) {
      options.onProgress?.({ phase: 'referencing', done: listed++, total: snapshots.length })
      for (const table of snapshot.manifest.tables) {
        throwIfAborted(signal)
        referenced.add(table.index)
        const chunks = await repository.readIndex(table.index, signal).catch((err: unknown) => {
          throw new DbsnapError(
            isDbsnapError(err) ? err.code : 'DATA_CORRUPT',
            `cannot prune: the index of snapshot ${snapshot.id.slice(0, 12)} cannot be read (${err instanceof Error ? err.message : String(err)}); run dbsnap verify`,
            { cause: err },
          )
        })
        for (const chunk of chunks) {
          referenced.add(chunk.id)
          for (const dep of chunk.deps ?? []) referenced.add(dep)
        }
      }
    }
    const candidates: { id: string; block: boolean; size: number; young: boolean }[] = []
    const unreferenced = async (
      stored: AsyncIterable<StoredObjectInfo>,
      kept: Set<string>,
      block: boolean,
    ): Promise<void> => {
      for await (const info of stored) {
        if (kept.has(info.id)) continue
        candidates.push({
          id: info.id,
          block,
          size: info.size,
          young: info.modified.getTime() > cutoff,
        })
      }
    }
    await unreferenced(repository.listObjects({ signal }), referenced, false)
    // Blocks of saved diffs that no saved diff lists: left by a `diff --save` that died.
    const blocks = await repository.referencedDiffBlocks(signal).catch((err: unknown) => {
      throw new DbsnapError(
        isDbsnapError(err) ? err.code : 'DATA_CORRUPT',
        `cannot prune: a saved diff cannot be read (${err instanceof Error ? err.message : String(err)}); run dbsnap verify`,
        { cause: err },
      )
    })
    await unreferenced(repository.listDiffBlocks({ signal }), blocks, true)
    // A young leftover may be a delta over an old unreferenced object: keep its bases too, or a
    // later snapshot reusing it would reference a broken chain.
    const keep = new Set<string>()
    for (const c of candidates.filter((c) => c.young && !c.block)) {
      let base = await repository.objectBase(c.id, signal).catch(() => null)
      while (base !== null && !keep.has(base.id)) {
        keep.add(base.id)
        base = await repository.objectBase(base.id, signal).catch(() => null)
      }
    }
    let objectsDeleted = 0
    let bytesFreed = 0
    const doomed = candidates.filter((c) => !c.young && !keep.has(c.id)).length
    for (const c of candidates) {
      if (c.young || keep.has(c.id)) continue
      throwIfAborted(signal)
      options.onProgress?.({ phase: 'deleting', done: objectsDeleted, total: doomed })
      if (options.dryRun !== true) {
        await (c.block
          ? repository.deleteDiffBlock(c.id, signal)
          : repository.deleteObject(c.id, signal))
      }
      objectsDeleted++
      bytesFreed += c.size
    }
    const temporaryFilesDeleted =
      options.dryRun === true ? 0 : await repository.cleanTemporary(new Date(cutoff))
    return {
      snapshots: snapshots.length,
      objectsReferenced: referenced.size,
      objectsDeleted,
      bytesFreed,
      objectsInGrace: candidates.filter((c) => c.young).length,
      temporaryFilesDeleted,
      staleLocksDeleted: lock.staleRemoved,
    }
  } finally {
    await lock.release()
  }
}
