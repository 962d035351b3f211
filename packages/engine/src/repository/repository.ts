// A DBSnap repository on any Storage: its config, content-addressed objects (object-store.ts),
// snapshot manifests, saved diffs and locks. The on-storage layout is docs/snapshot-format.md;
// its keys are spelled in layout.ts. The repository owns its storage: callers reach what it holds
// through its methods only, and `close()` closes the storage.

import { DbsnapError, isDbsnapError, type ErrorCode } from '../errors.js'
import { OverlayStorage } from '../storage/overlay/overlay-storage.js'
import { bytesSource, type Storage } from '../storage/storage.js'
import { byCodeUnit } from '../util/compare.js'
import { tryParseJson } from '../util/try-parse-json.js'
import type { CodecSpec } from './codec.js'
import {
  CHUNKS_PREFIX,
  CONFIG_KEY,
  DIFF_BLOCKS_PREFIX,
  DIFFS_PREFIX,
  diffBlockKey,
  idOfKey,
  manifestKey,
  objectKey,
  savedDiffKey,
  SNAPSHOTS_PREFIX,
} from './layout.js'
import { acquireLock, type HeldLock, type LockKind } from './locks.js'
import { manifestSchema, savedDiffBlocksSchema, type SnapshotManifest } from './manifest.js'
import { isObjectId } from './object-format.js'
import { ObjectStore } from './object-store.js'
import {
  encodeRepositoryConfig,
  newRepositoryConfig,
  parseRepositoryConfig,
} from './repository-config.js'

export interface StoredSnapshot {
  id: string
  manifest: SnapshotManifest
}

/** A snapshot whose manifest could not be read: its id and why, as an error code and message. */
export interface UnreadableSnapshot {
  id: string
  code: ErrorCode
  message: string
}

/** A stored object or saved-diff block as the storage lists it, for `prune`. */
export interface StoredObjectInfo {
  id: string
  /** Its storage key, for messages. */
  key: string
  /** Stored bytes. */
  size: number
  /** When it was written, by the storage's clock. */
  modified: Date
}

/** Something a storage may offer to clean up its own interrupted writes (FsStorage does). */
interface TemporaryCleaner {
  cleanTemporary(olderThan: Date): Promise<number>
}

export class Repository extends ObjectStore {
  /**
   * Opens the repository at `storage`; with `create`, makes a new one where there is none.
   * Rejects with `REPOSITORY_NOT_FOUND` when there is none and `create` is false. The repository
   * owns `storage` from then on: `close()` closes it.
   */
  static async open(
    storage: Storage,
    options: { create?: boolean; compression?: CodecSpec; signal?: AbortSignal } = {},
  ): Promise<Repository> {
    let bytes: Uint8Array | null = null
    try {
      bytes = await storage.get(CONFIG_KEY, { signal: options.signal })
    } catch (err) {
      if (!isDbsnapError(err) || err.code !== 'STORAGE_NOT_FOUND') throw err
    }
    if (bytes !== null) {
      return new Repository(storage, parseRepositoryConfig(bytes, storage.location))
    }
    if (options.create !== true) {
      throw new DbsnapError('REPOSITORY_NOT_FOUND', `no DBSnap repository at ${storage.location}`, {
        details: { repository: storage.location },
      })
    }
    const config = newRepositoryConfig(options.compression)
    await storage.put(CONFIG_KEY, bytesSource(encodeRepositoryConfig(config)), {
      signal: options.signal,
    })
    return new Repository(storage, config)
  }

  /** Where the repository is, for messages: a path or `s3://bucket/prefix`. Never a secret. */
  get location(): string {
    return this.storage.location
  }

  /** Closes the repository's storage (sockets, handles); idempotent. */
  close(): Promise<void> {
    return this.storage.close()
  }

  /**
   * This repository seen through `upper`: reads find what either holds, writes go to `upper`
   * only, so this one is left untouched (a live diff snapshots the live database so). Closing
   * the overlay closes `upper`, not this repository.
   */
  overlay(upper: Storage, options: { signal?: AbortSignal } = {}): Promise<Repository> {
    return Repository.open(new OverlayStorage(upper, this.storage), options)
  }

  /**
   * Takes a lock on the repository (repository/locks.ts): `shared` for what adds to it or reads
   * it, `exclusive` for what deletes from it (`prune`). Rejects with `REPOSITORY_LOCKED` naming
   * the holder of a conflicting lock.
   */
  lock(
    kind: LockKind,
    operation: string,
    options: { signal?: AbortSignal; now?: () => Date } = {},
  ): Promise<HeldLock> {
    return acquireLock(this.storage, kind, operation, options)
  }

  /**
   * Runs `work` holding a lock of `kind`, released however it ends: what every operation on a
   * repository does, so `prune` (exclusive) never deletes what a running one reads or writes.
   */
  async withLock<T>(
    kind: LockKind,
    operation: string,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    const lock = await this.lock(kind, operation, { signal })
    try {
      return await work()
    } finally {
      await lock.release()
    }
  }

  /** Stores a manifest: the commit point of a snapshot. Returns the snapshot id. */
  async putManifest(
    manifest: SnapshotManifest,
    signal?: AbortSignal,
  ): Promise<{ id: string; storedBytes: number }> {
    const content = Buffer.from(JSON.stringify(manifest), 'utf8')
    return this.putNamed(manifestKey, 'manifest', content, signal)
  }

  /** Reads and checks a manifest; `DATA_CORRUPT` names it when it does not check. */
  async readManifest(id: string, signal?: AbortSignal): Promise<SnapshotManifest> {
    const what = `snapshot ${id}`
    const payload = await this.readNamed(manifestKey(id), 'manifest', id, what, signal)
    const parsed = manifestSchema.safeParse(tryParseJson(payload.toString('utf8')))
    if (!parsed.success) {
      throw new DbsnapError('DATA_CORRUPT', `${what} is corrupt: its manifest is malformed`, {
        details: { object: manifestKey(id) },
      })
    }
    return parsed.data
  }

  /** Ids of all committed snapshots. */
  async listSnapshotIds(signal?: AbortSignal): Promise<string[]> {
    return (await this.#listIds(SNAPSHOTS_PREFIX, signal)).sort()
  }

  /**
   * Every readable snapshot, oldest first, and the snapshots whose manifest could not be read
   * (`DATA_CORRUPT`: garbage, truncated, not hashing to its id; `STORAGE_NOT_FOUND`: deleted
   * since it was listed): a listing shows the good ones and flags the bad ones instead of failing
   * on one bad file. Any other error (storage unreachable, aborted) rejects.
   */
  async listSnapshotsAndUnreadable(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ snapshots: StoredSnapshot[]; unreadable: UnreadableSnapshot[] }> {
    const unreadable: UnreadableSnapshot[] = []
    const snapshots = await this.listSnapshots({
      signal: options.signal,
      onError: (id, err) => {
        if (err.code !== 'DATA_CORRUPT' && err.code !== 'STORAGE_NOT_FOUND') throw err
        unreadable.push({ id, code: err.code, message: err.message })
      },
    })
    return { snapshots, unreadable: unreadable.sort((a, b) => byCodeUnit(a.id, b.id)) }
  }

  /**
   * Every readable snapshot, oldest first. Unreadable manifests are reported through `onError`
   * (verify names them) instead of hiding every other snapshot; without it, one rejects.
   */
  async listSnapshots(
    options: { signal?: AbortSignal; onError?: (id: string, err: DbsnapError) => void } = {},
  ): Promise<StoredSnapshot[]> {
    const ids = await this.listSnapshotIds(options.signal)
    const out: StoredSnapshot[] = []
    const concurrency = 8
    for (let i = 0; i < ids.length; i += concurrency) {
      const batch = ids.slice(i, i + concurrency)
      const results = await Promise.allSettled(
        batch.map((id) => this.readManifest(id, options.signal)),
      )
      results.forEach((result, k) => {
        const id = batch[k]!
        if (result.status === 'fulfilled') out.push({ id, manifest: result.value })
        else if (
          options.onError !== undefined &&
          isDbsnapError(result.reason) &&
          result.reason.code !== 'ABORTED'
        )
          options.onError(id, result.reason)
        else throw result.reason
      })
    }
    return out.sort(
      (a, b) => byCodeUnit(a.manifest.startedAt, b.manifest.startedAt) || byCodeUnit(a.id, b.id),
    )
  }

  /** Removes a snapshot's manifest (its chunks stay until `prune`). */
  async deleteSnapshot(id: string, signal?: AbortSignal): Promise<void> {
    await this.storage.delete(manifestKey(id), { signal })
  }

  /** Stores a block of a saved diff's row changes; returns its id. */
  async putDiffBlock(content: Uint8Array, signal?: AbortSignal): Promise<string> {
    return (await this.putNamed(diffBlockKey, 'diff', content, signal)).id
  }

  /**
   * Stores a saved diff: the commit point of `diff --save`, written after the blocks it lists
   * (`blocks[].id`, which `prune` keeps). Returns its id.
   */
  async putSavedDiff(content: Uint8Array, signal?: AbortSignal): Promise<string> {
    return (await this.putNamed(savedDiffKey, 'diff', content, signal)).id
  }

  /** A saved-diff block's content, checked against its id. */
  readDiffBlock(id: string, signal?: AbortSignal): Promise<Buffer> {
    return this.readNamed(diffBlockKey(id), 'diff', id, `saved diff block ${id}`, signal)
  }

  /** A saved diff's content, checked against its id. */
  readSavedDiff(id: string, signal?: AbortSignal): Promise<Buffer> {
    return this.readNamed(savedDiffKey(id), 'diff', id, `saved diff ${id}`, signal)
  }

  /** Ids of the saved diffs. */
  listSavedDiffIds(signal?: AbortSignal): Promise<string[]> {
    // Blocks live under `diffs/blocks/`: their keys do not end in an id right after `diffs/`.
    return this.#listIds(DIFFS_PREFIX, signal, (key) => key.slice(DIFFS_PREFIX.length))
  }

  /**
   * The ids of every block a saved diff lists: what `prune` must keep. Rejects when a saved diff
   * cannot be read, or does not list its blocks, since what it references is then unknown.
   */
  async referencedDiffBlocks(signal?: AbortSignal): Promise<Set<string>> {
    const blocks = new Set<string>()
    for (const id of await this.listSavedDiffIds(signal)) {
      const parsed = savedDiffBlocksSchema.safeParse(
        tryParseJson((await this.readSavedDiff(id, signal)).toString('utf8')),
      )
      if (!parsed.success) {
        throw new DbsnapError('DATA_CORRUPT', `saved diff ${id} is corrupt: malformed`, {
          details: { object: savedDiffKey(id) },
        })
      }
      for (const block of parsed.data.blocks) blocks.add(block.id)
    }
    return blocks
  }

  /** Every stored object (data chunks, chunk indexes), as the storage lists them. */
  listObjects(options: { signal?: AbortSignal } = {}): AsyncIterable<StoredObjectInfo> {
    return this.#listInfo(CHUNKS_PREFIX, options.signal)
  }

  /** Every stored saved-diff block, listed or not by a saved diff. */
  listDiffBlocks(options: { signal?: AbortSignal } = {}): AsyncIterable<StoredObjectInfo> {
    return this.#listInfo(DIFF_BLOCKS_PREFIX, options.signal)
  }

  /** Deletes a stored object; only `prune` may, under its exclusive lock. */
  async deleteObject(id: string, signal?: AbortSignal): Promise<void> {
    await this.storage.delete(objectKey(id), { signal })
  }

  /** Deletes a saved-diff block; only `prune` may, under its exclusive lock. */
  async deleteDiffBlock(id: string, signal?: AbortSignal): Promise<void> {
    await this.storage.delete(diffBlockKey(id), { signal })
  }

  /**
   * Removes the storage's own leftovers of interrupted writes older than `olderThan`, where the
   * storage keeps any (a directory's temporary files); returns how many it removed.
   */
  async cleanTemporary(olderThan: Date): Promise<number> {
    const cleaner = this.storage as Partial<TemporaryCleaner>
    return typeof cleaner.cleanTemporary === 'function' ? cleaner.cleanTemporary(olderThan) : 0
  }

  /** The ids of the objects under `prefix` whose key (`idOf` it) is an object id. */
  async #listIds(
    prefix: string,
    signal?: AbortSignal,
    idOf: (key: string) => string = idOfKey,
  ): Promise<string[]> {
    const ids: string[] = []
    for await (const info of this.storage.list(prefix, { signal })) {
      const id = idOf(info.key)
      if (isObjectId(id)) ids.push(id)
    }
    return ids
  }

  async *#listInfo(prefix: string, signal?: AbortSignal): AsyncIterable<StoredObjectInfo> {
    for await (const info of this.storage.list(prefix, { signal })) {
      yield { id: idOfKey(info.key), key: info.key, size: info.size, modified: info.modified }
    }
  }
}
