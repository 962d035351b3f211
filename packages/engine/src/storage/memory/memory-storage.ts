// A Storage that keeps objects in a Map, for unit tests of the layers above storage: same
// contract and errors as the real ones, no I/O.

import { DbsnapError, throwIfAborted } from '../../errors.js'
import { assertValidKey, assertValidPrefix, assertValidRange } from '../keys.js'
import {
  checkedBytes,
  type ByteSource,
  type GetOptions,
  type ObjectInfo,
  type PutOptions,
  type Storage,
  type StorageCallOptions,
} from '../storage.js'

interface StoredObject {
  bytes: Buffer
  modified: Date
}

/**
 * Objects in process memory. A put stores a copy of the bytes only once the source has been
 * read to the end and checked, so a failed put leaves the previous content; a get returns a copy,
 * so callers cannot change what is stored. Nothing survives the process.
 */
export class MemoryStorage implements Storage {
  readonly location: string
  readonly #objects = new Map<string, StoredObject>()

  /** `name` only tells instances apart in messages: `memory:<name>`. */
  constructor(name = 'default') {
    this.location = `memory:${name}`
  }

  get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    return settle(() => {
      assertValidKey(key)
      if (options.range !== undefined) assertValidRange(options.range)
      throwIfAborted(options.signal)
      const object = this.#objects.get(key)
      if (object === undefined) {
        throw new DbsnapError('STORAGE_NOT_FOUND', `no object "${key}" in ${this.location}`, {
          details: { key, location: this.location },
        })
      }
      const { offset, length } = options.range ?? { offset: 0, length: object.bytes.byteLength }
      return Buffer.from(object.bytes.subarray(offset, offset + length))
    })
  }

  async put(key: string, source: ByteSource, options: PutOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const pieces: Buffer[] = []
    for await (const piece of checkedBytes(source, options.sha256)) {
      throwIfAborted(options.signal)
      pieces.push(Buffer.from(piece))
    }
    throwIfAborted(options.signal)
    this.#objects.set(key, { bytes: Buffer.concat(pieces), modified: new Date() })
  }

  stat(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | null> {
    return settle(() => {
      assertValidKey(key)
      throwIfAborted(options.signal)
      const object = this.#objects.get(key)
      return object === undefined ? null : info(key, object)
    })
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- nothing to wait for in memory
  async *list(prefix: string, options: StorageCallOptions = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix)
    for (const [key, object] of [...this.#objects]) {
      throwIfAborted(options.signal)
      if (key.startsWith(prefix)) yield info(key, object)
    }
  }

  delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    return settle(() => {
      assertValidKey(key)
      throwIfAborted(options.signal)
      this.#objects.delete(key)
    })
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** Runs `fn` and settles with its result, turning a throw into a rejection as I/O would. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()))
}

function info(key: string, object: StoredObject): ObjectInfo {
  return { key, size: object.bytes.byteLength, modified: object.modified }
}
