// A storage that reads through to another and writes only to its own: what a live diff snapshots
// into, so the live database's chunks can be compared with a repository's without adding
// anything to that repository (which may be read-only, or shared).

import type {
  ByteSource,
  GetOptions,
  ObjectInfo,
  PutOptions,
  Storage,
  StorageCallOptions,
} from '../storage.js'
import { isDbsnapError } from '../../errors.js'

export class OverlayStorage implements Storage {
  readonly location: string
  readonly #upper: Storage
  readonly #lower: Storage

  /** Writes go to `upper`; reads find `upper`'s objects first, then `lower`'s. */
  constructor(upper: Storage, lower: Storage) {
    this.#upper = upper
    this.#lower = lower
    this.location = lower.location
  }

  async get(key: string, options?: GetOptions): Promise<Uint8Array> {
    try {
      return await this.#upper.get(key, options)
    } catch (err) {
      if (isDbsnapError(err) && err.code === 'STORAGE_NOT_FOUND')
        return this.#lower.get(key, options)
      throw err
    }
  }

  put(key: string, source: ByteSource, options?: PutOptions): Promise<void> {
    return this.#upper.put(key, source, options)
  }

  async stat(key: string, options?: StorageCallOptions): Promise<ObjectInfo | null> {
    return (await this.#upper.stat(key, options)) ?? this.#lower.stat(key, options)
  }

  async *list(prefix: string, options?: StorageCallOptions): AsyncIterable<ObjectInfo> {
    const seen = new Set<string>()
    for await (const info of this.#upper.list(prefix, options)) {
      seen.add(info.key)
      yield info
    }
    for await (const info of this.#lower.list(prefix, options)) {
      if (!seen.has(info.key)) yield info
    }
  }

  /** Deletes from the upper storage only: the lower one is never changed. */
  delete(key: string, options?: StorageCallOptions): Promise<void> {
    return this.#upper.delete(key, options)
  }

  /** Closes the upper storage; the lower one belongs to whoever opened it. */
  close(): Promise<void> {
    return this.#upper.close()
  }
}
