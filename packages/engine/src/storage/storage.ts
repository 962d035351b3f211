// The one interface every place a repository can live in implements (local directory, S3
// prefix, memory for tests). Small on purpose: the repository format is built on top of it.

import { createHash } from 'node:crypto'
import { DbsnapError } from '../errors.js'

/**
 * Bytes to store, re-openable so that a failed upload can be retried from the start.
 *
 * Guarantees asked of implementations: every call to `open()` yields the same `size` bytes, and
 * an array it yielded is not modified afterwards (a storage may hold it until it is sent).
 */
export interface ByteSource {
  /** Exact number of bytes `open()` yields. */
  readonly size: number
  /** A fresh stream of the bytes, from the first. May be called any number of times. */
  open(): AsyncIterable<Uint8Array>
}

/** What `stat` and `list` tell about an object. */
export interface ObjectInfo {
  /** The key, relative to the storage root, `/`-separated, e.g. `chunks/ab/abcd…`. */
  key: string
  size: number
  /** When the object was last written, as the storage clock says. */
  modified: Date
}

export interface StorageCallOptions {
  signal?: AbortSignal
}

export interface GetOptions extends StorageCallOptions {
  /**
   * Read only `length` bytes from `offset`; fewer when the object ends first (none when `offset`
   * is at or past the end). Both are non-negative integers, else `INVALID_ARGUMENT`.
   */
  range?: { offset: number; length: number }
}

export interface PutOptions extends StorageCallOptions {
  /**
   * SHA-256 of the bytes, if the caller knows it. Implementations that can have the server
   * check it (S3 `x-amz-checksum-sha256`) do, so a corrupted transfer is refused. Every
   * implementation also checks it while reading the source: bytes that do not hash to it reject
   * the put with `DATA_CORRUPT` and store nothing.
   */
  sha256?: Uint8Array
}

/**
 * A flat key/value store of immutable-once-written objects.
 *
 * Keys are relative, `/`-separated, made of `[A-Za-z0-9._-]` segments, never empty, never
 * starting with `/`, never containing `.` or `..` segments, at most 1024 characters, and never
 * starting with the segment `tmp` (reserved for temporary files); any other key (and any list
 * prefix that no valid key could start with) is rejected with `INVALID_ARGUMENT` before any I/O.
 * See `keys.ts`.
 *
 * Errors are `DbsnapError`s with a `STORAGE_*` code (never a raw driver error, never a secret in
 * the message): `STORAGE_NOT_FOUND` for a missing object, `STORAGE_LOCATION_NOT_FOUND` when the
 * root (directory, bucket) is missing, `STORAGE_PERMISSION_DENIED`, `STORAGE_FULL`,
 * `STORAGE_UNAVAILABLE` (retryable: network, timeout, 5xx) and `STORAGE_FAILED` otherwise;
 * `CONFIG_INVALID` when a setting the storage needs is missing (an S3 region, credentials). An
 * aborted signal gives `ABORTED`: checked before any I/O, then between requests or pieces of a
 * source, and pending requests are cancelled where the transport allows. Implementations retry transient failures themselves, with
 * backoff, before surfacing `STORAGE_UNAVAILABLE`. An error thrown by a `ByteSource` is not a
 * storage failure: `put` rejects with that same error, without retrying.
 */
export interface Storage {
  /** Where the storage is, for messages: a path or `s3://bucket/prefix`. Never a secret. */
  readonly location: string

  /**
   * Reads a whole object (or a range of it).
   * Rejects with `STORAGE_NOT_FOUND` when the key does not exist.
   */
  get(key: string, options?: GetOptions): Promise<Uint8Array>

  /**
   * Writes an object atomically: once `put` resolves, `get` returns exactly these bytes; if it
   * rejects or the process dies midway, the key either does not exist or holds a previous
   * complete content, never a part. (A put that fails while committing, e.g. when the reply to
   * the final request is lost, may still have stored the new content whole.) Overwrites an
   * existing key. Durable when it resolves (fsync on disk; a completed PUT on S3). May call
   * `source.open()` more than once (once per attempt). A source that yields more or fewer than
   * `source.size` bytes rejects the put with `INVALID_ARGUMENT` and stores nothing.
   */
  put(key: string, source: ByteSource, options?: PutOptions): Promise<void>

  /** Size and modification time of an object, or null when it does not exist. */
  stat(key: string, options?: StorageCallOptions): Promise<ObjectInfo | null>

  /**
   * Every object whose key starts with `prefix` (`''` for all), each exactly once, in no
   * particular order. Objects written or deleted while listing may or may not appear.
   * Temporary files of an unfinished `put` never appear, nor do objects whose names are not
   * valid keys (put there by other tools).
   */
  list(prefix: string, options?: StorageCallOptions): AsyncIterable<ObjectInfo>

  /** Removes an object; resolves also when it did not exist. */
  delete(key: string, options?: StorageCallOptions): Promise<void>

  /** Releases sockets and handles; idempotent. */
  close(): Promise<void>
}

/** A ByteSource over bytes already in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    // eslint-disable-next-line @typescript-eslint/require-await -- the bytes are already here
    async *open() {
      yield bytes
    },
  }
}

/**
 * The bytes of `source`, checked as they stream, for implementations of `put`: the iteration
 * throws `INVALID_ARGUMENT` as soon as the source yields more than `source.size` bytes or ends
 * with fewer, and `DATA_CORRUPT` at the end when `sha256` is given and the bytes do not hash to
 * it. A put must consume it to the end before committing anything. Errors thrown by the source
 * itself pass through unchanged; every error the iteration throws satisfies `isSourceError`, so
 * a put can tell them from its own failures, rethrow them as they are and not retry them.
 */
export async function* checkedBytes(
  source: ByteSource,
  sha256?: Uint8Array,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    const hash = sha256 === undefined ? undefined : createHash('sha256')
    let seen = 0
    for await (const piece of source.open()) {
      seen += piece.byteLength
      if (seen > source.size) throw sizeMismatch(source.size, `more than ${source.size}`)
      hash?.update(piece)
      yield piece
    }
    if (seen !== source.size) throw sizeMismatch(source.size, String(seen))
    if (hash !== undefined && sha256 !== undefined) {
      const actual = hash.digest()
      if (!actual.equals(sha256)) {
        throw new DbsnapError(
          'DATA_CORRUPT',
          `expected the bytes to store to have SHA-256 ${Buffer.from(sha256).toString('hex')}, got ${actual.toString('hex')}`,
        )
      }
    }
  } catch (err) {
    if (typeof err === 'object' && err !== null) sourceErrors.add(err)
    throw err
  }
}

const sourceErrors = new WeakSet<object>()

/** True when `err` was thrown by a `checkedBytes` iteration (the source or its checks). */
export function isSourceError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && sourceErrors.has(err)
}

function sizeMismatch(size: number, got: string): DbsnapError {
  return new DbsnapError(
    'INVALID_ARGUMENT',
    `expected the byte source to yield its size, ${size} bytes, got ${got}`,
  )
}
