// A Storage in a local directory: one file per object, written to a temporary file, fsynced and
// renamed into place, so a crash never leaves a partial object under its key.

import { randomBytes } from 'node:crypto'
import type { Dirent, Stats } from 'node:fs'
import {
  mkdir,
  open,
  opendir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  DbsnapError,
  abortError,
  findErrorCode,
  isDbsnapError,
  throwIfAborted,
} from '../../errors.js'
import { makeDirectories } from '../../util/make-directories.js'
import {
  RESERVED_TOP_LEVEL,
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  isValidKey,
} from '../keys.js'
import {
  checkedBytes,
  isSourceError,
  type ByteSource,
  type GetOptions,
  type ObjectInfo,
  type PutOptions,
  type Storage,
  type StorageCallOptions,
} from '../storage.js'

/** A temporary file of an unfinished (or crashed) put, in `<root>/tmp/`. */
export interface TemporaryFile {
  /** Absolute path of the file. */
  path: string
  size: number
  /** Last write: a put in progress keeps touching its file. */
  modified: Date
}

export interface FsStorageOpenOptions {
  /** Create the directory (and its parents) when it does not exist. */
  create?: boolean
}

const TEMP_SUFFIX = '.tmp'

/**
 * Objects as files under a root directory: key `chunks/ab/abcd` is `<root>/chunks/ab/abcd`.
 *
 * - `put` streams the source into a uniquely named file in `<root>/tmp/`, fsyncs it, renames it
 *   over the key's path (creating parent directories) and fsyncs the directories it changed:
 *   atomic and durable. A failed put removes its temporary file; one left by a crash is never
 *   listed and is removed by `cleanTemporary`.
 * - The constructor does no I/O; `FsStorage.open` checks (or creates) the root at once. Either
 *   way every operation tells a missing root (`STORAGE_LOCATION_NOT_FOUND`) from a missing
 *   object (`STORAGE_NOT_FOUND`).
 * - Errors: EACCES/EPERM/EROFS give `STORAGE_PERMISSION_DENIED`, ENOSPC/EDQUOT/EFBIG
 *   `STORAGE_FULL`. A local disk has no transient failures worth retrying, so nothing is retried;
 *   ETIMEDOUT/ESTALE/EAGAIN/EBUSY (network filesystems) surface as retryable
 *   `STORAGE_UNAVAILABLE`.
 * - A key cannot be both an object and the parent of another (`a` and `a/b`), as on any
 *   filesystem; the repository layout never needs that. Symlinked files are read and listed;
 *   symlinked directories are not listed (no loops).
 */
export class FsStorage implements Storage {
  /** The absolute path of the root directory. */
  readonly location: string
  readonly #root: string
  readonly #tmpDir: string

  constructor(rootDir: string) {
    this.#root = resolve(rootDir)
    this.#tmpDir = join(this.#root, RESERVED_TOP_LEVEL)
    this.location = this.#root
  }

  /**
   * An FsStorage whose root is known to be a directory; rejects with
   * `STORAGE_LOCATION_NOT_FOUND` when it is missing (unless `create`) or is not a directory.
   */
  static async open(rootDir: string, options: FsStorageOpenOptions = {}): Promise<FsStorage> {
    const storage = new FsStorage(rootDir)
    if (options.create === true) {
      await makeDirectories(storage.#root).catch((err: unknown) => {
        throw storage.#error(err, 'create the directory', undefined)
      })
    }
    let info: Stats
    try {
      info = await stat(storage.#root)
    } catch (err) {
      const code = findErrorCode(err)
      if (code === 'ENOENT' || code === 'ENOTDIR') throw storage.#locationNotFound(err)
      throw storage.#error(err, 'open', undefined)
    }
    if (!info.isDirectory()) throw storage.#locationNotFound(undefined)
    return storage
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    assertValidKey(key)
    if (options.range !== undefined) assertValidRange(options.range)
    throwIfAborted(options.signal)
    const path = this.#path(key)
    try {
      if (options.range === undefined) return await readFile(path, { signal: options.signal })
      return await readRange(path, options.range.offset, options.range.length)
    } catch (err) {
      throw await this.#missingOr(err, 'read', key, options.signal)
    }
  }

  async put(key: string, source: ByteSource, options: PutOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const target = this.#path(key)
    const temp = join(this.#tmpDir, `${randomBytes(12).toString('hex')}${TEMP_SUFFIX}`)
    let file: FileHandle | undefined
    let renamed = false
    try {
      file = await this.#createTemp(temp)
      for await (const piece of checkedBytes(source, options.sha256)) {
        throwIfAborted(options.signal)
        await writeAll(file, piece)
      }
      throwIfAborted(options.signal)
      await file.sync()
      await file.close()
      file = undefined
      const dir = dirname(target)
      let created: string | undefined
      try {
        await rename(temp, target)
      } catch (err) {
        if (findErrorCode(err) !== 'ENOENT') throw err
        // Its directory is missing (the first object under a prefix): made, then renamed into.
        // Most puts go to a directory that is there, without the call that would say so.
        created = await makeDirectories(dir)
        await rename(temp, target)
      }
      renamed = true
      await this.#syncDirectories(dir, created)
    } catch (err) {
      await file?.close().catch(() => undefined)
      if (!renamed) await rm(temp, { force: true }).catch(() => undefined)
      if (isSourceError(err)) throw err
      if (options.signal?.aborted !== true && !(await this.#rootExists())) {
        throw this.#locationNotFound(err)
      }
      throw this.#error(err, 'write', key, options.signal)
    }
  }

  async stat(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | null> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    try {
      const info = await stat(this.#path(key))
      return info.isFile() ? { key, size: info.size, modified: info.mtime } : null
    } catch (err) {
      const mapped = await this.#missingOr(err, 'stat', key, options.signal)
      if (mapped.code === 'STORAGE_NOT_FOUND') return null
      throw mapped
    }
  }

  async *list(prefix: string, options: StorageCallOptions = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix)
    throwIfAborted(options.signal)
    const slash = prefix.lastIndexOf('/')
    yield* this.#walk(prefix.slice(0, Math.max(slash, 0)), prefix.slice(slash + 1), options.signal)
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    try {
      await unlink(this.#path(key))
    } catch (err) {
      const mapped = await this.#missingOr(err, 'delete', key, options.signal)
      if (mapped.code !== 'STORAGE_NOT_FOUND') throw mapped
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  /**
   * The temporary files in `<root>/tmp/`: those of puts in progress and those left by crashes.
   * Their names are random; nothing but `cleanTemporary` should touch them.
   */
  async *listTemporary(options: StorageCallOptions = {}): AsyncGenerator<TemporaryFile> {
    throwIfAborted(options.signal)
    let entries: AsyncIterable<Dirent>
    try {
      entries = await opendir(this.#tmpDir)
    } catch (err) {
      const mapped = await this.#missingOr(
        err,
        'list temporary files in',
        undefined,
        options.signal,
      )
      if (mapped.code === 'STORAGE_NOT_FOUND') return
      throw mapped
    }
    for await (const entry of entries) {
      throwIfAborted(options.signal)
      if (!entry.isFile() || !entry.name.endsWith(TEMP_SUFFIX)) continue
      const path = join(this.#tmpDir, entry.name)
      const info = await stat(path).catch(() => null)
      if (info !== null) yield { path, size: info.size, modified: info.mtime }
    }
  }

  /**
   * Removes the temporary files last written before `olderThan`, and returns how many. Pick a
   * time well before the start of any put that may still run (e.g. an hour ago, under the
   * repository's exclusive lock): a put whose file is removed fails, it never stores a part.
   */
  async cleanTemporary(olderThan: Date, options: StorageCallOptions = {}): Promise<number> {
    let removed = 0
    for await (const file of this.listTemporary(options)) {
      if (file.modified >= olderThan) continue
      try {
        await unlink(file.path)
        removed += 1
      } catch (err) {
        if (findErrorCode(err) !== 'ENOENT') throw this.#error(err, 'delete', undefined)
      }
    }
    return removed
  }

  #path(key: string): string {
    return join(this.#root, ...key.split('/'))
  }

  /** Opens a new temporary file, creating `<root>/tmp` (but never the root) when missing. */
  async #createTemp(path: string): Promise<FileHandle> {
    try {
      return await open(path, 'wx', 0o644)
    } catch (err) {
      if (findErrorCode(err) !== 'ENOENT') throw err
    }
    await mkdir(this.#tmpDir).catch((err: unknown) => {
      if (findErrorCode(err) !== 'EEXIST') throw err
    })
    return await open(path, 'wx', 0o644)
  }

  /** fsyncs `dir`, and when `created` (the first directory mkdir made) its new ancestors too. */
  async #syncDirectories(dir: string, created: string | undefined): Promise<void> {
    await syncDirectory(dir)
    if (created === undefined) return
    const stop = dirname(created)
    for (let d = dir; d !== stop && d.length > this.#root.length;) {
      d = dirname(d)
      await syncDirectory(d)
    }
  }

  async *#walk(
    dirKey: string,
    namePrefix: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ObjectInfo> {
    const dirPath = dirKey === '' ? this.#root : this.#path(dirKey)
    let entries: AsyncIterable<Dirent>
    try {
      entries = await opendir(dirPath)
    } catch (err) {
      const mapped = await this.#missingOr(err, 'list', dirKey, signal)
      if (mapped.code === 'STORAGE_NOT_FOUND') return
      throw mapped
    }
    for await (const entry of entries) {
      throwIfAborted(signal)
      const name = entry.name
      if (!name.startsWith(namePrefix)) continue
      if (dirKey === '' && name === RESERVED_TOP_LEVEL) continue
      const key = dirKey === '' ? name : `${dirKey}/${name}`
      if (entry.isDirectory()) {
        if (isValidKey(key)) yield* this.#walk(key, '', signal)
        continue
      }
      if (!(entry.isFile() || entry.isSymbolicLink()) || !isValidKey(key)) continue
      const info = await stat(join(dirPath, name)).catch(() => null)
      if (info?.isFile() === true) yield { key, size: info.size, modified: info.mtime }
    }
  }

  /**
   * Maps a failed call on `key`: a missing file (or a file or directory where a directory or
   * file was expected) is `STORAGE_NOT_FOUND` while the root exists, and
   * `STORAGE_LOCATION_NOT_FOUND` once it does not.
   */
  async #missingOr(
    err: unknown,
    action: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<DbsnapError> {
    const code = findErrorCode(err)
    if (
      signal?.aborted !== true &&
      (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
    ) {
      if (!(await this.#rootExists())) return this.#locationNotFound(err)
      return new DbsnapError(
        'STORAGE_NOT_FOUND',
        key === undefined
          ? `nothing to ${action} in ${this.location}`
          : `no object "${key}" in ${this.location}`,
        { cause: err, details: { location: this.location, ...(key === undefined ? {} : { key }) } },
      )
    }
    return this.#error(err, action, key, signal)
  }

  async #rootExists(): Promise<boolean> {
    try {
      return (await stat(this.#root)).isDirectory()
    } catch {
      return false
    }
  }

  #locationNotFound(cause: unknown): DbsnapError {
    return new DbsnapError(
      'STORAGE_LOCATION_NOT_FOUND',
      `expected a directory at ${this.location}, found none`,
      { cause, details: { location: this.location } },
    )
  }

  /** Maps a filesystem error (or an abort) to a DbsnapError; DbsnapErrors pass through. */
  #error(err: unknown, action: string, key: string | undefined, signal?: AbortSignal): DbsnapError {
    if (signal?.aborted === true) return abortError(signal)
    if (isDbsnapError(err)) return err
    const code = findErrorCode(err)
    const what = key === undefined ? this.location : `"${key}" in ${this.location}`
    const details = { location: this.location, ...(key === undefined ? {} : { key }), code }
    const make = (c: DbsnapError['code'], message: string, retryable = false): DbsnapError =>
      new DbsnapError(c, message, { cause: err, retryable, details })
    switch (code) {
      case 'EACCES':
      case 'EPERM':
        return make('STORAGE_PERMISSION_DENIED', `permission denied to ${action} ${what} (${code})`)
      case 'EROFS':
        return make(
          'STORAGE_PERMISSION_DENIED',
          `cannot ${action} ${what}: the filesystem is read-only (EROFS)`,
        )
      case 'ENOSPC':
      case 'EDQUOT':
      case 'EFBIG':
        return make(
          'STORAGE_FULL',
          `cannot ${action} ${what}: ${code === 'ENOSPC' ? 'no space left on the device' : code === 'EDQUOT' ? 'disk quota exceeded' : 'file too large'} (${code})`,
        )
      case 'ETIMEDOUT':
      case 'ESTALE':
      case 'EAGAIN':
      case 'EBUSY':
        return make('STORAGE_UNAVAILABLE', `cannot ${action} ${what} for now (${code})`, true)
      case 'EEXIST':
      case 'EISDIR':
      case 'ENOTDIR':
        return make(
          'STORAGE_FAILED',
          `cannot ${action} ${what}: a directory or file is in the way (${code})`,
        )
      default:
        return make(
          'STORAGE_FAILED',
          `cannot ${action} ${what}: ${err instanceof Error ? err.message : String(err)}`,
          code === 'EMFILE' || code === 'ENFILE',
        )
    }
  }
}

/** Reads up to `length` bytes from `offset`; fewer when the file ends first. */
async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    const want = Math.max(0, Math.min(length, size - offset))
    const buffer = Buffer.allocUnsafe(want)
    let filled = 0
    while (filled < want) {
      const { bytesRead } = await file.read(buffer, filled, want - filled, offset + filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return buffer.subarray(0, filled)
  } finally {
    await file.close()
  }
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0
  while (written < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, written, bytes.byteLength - written)
    written += bytesWritten
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
