// A DBSnap repository on any Storage: its config, content-addressed objects (data chunks, chunk
// indexes), snapshot manifests and locks. The on-storage layout is docs/snapshot-format.md.

import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { DbsnapError, isDbsnapError, type ErrorCode } from '../errors.js'
import { bytesSource, type Storage } from '../storage/storage.js'
import { DEFAULT_CHUNKING, type ChunkingParams } from './chunking.js'
import { DEFAULT_CODEC, formatCodec, parseCodec, type CodecSpec } from './codec.js'
import { splitLines } from '../canonical/value-encoding.js'
import { decodeColumnar, rowsToColumnar } from './columnar.js'
import {
  applyDelta,
  MAX_DELTA_DEPTH,
  parseDelta,
  type AppliedDelta,
  type DeltaOp,
} from './delta.js'
import {
  chunkEntrySchema,
  manifestSchema,
  type ChunkEntry,
  type SnapshotManifest,
} from './manifest.js'
import {
  contentId,
  decodeHeader,
  decodeObject,
  encodeObject,
  isObjectId,
  MAX_OBJECT_BYTES,
  type ObjectKind,
} from './object-format.js'
import { byCodeUnit } from '../util/compare.js'

export const REPOSITORY_FORMAT = 1

export interface RepositoryConfig {
  format: 'dbsnap-repository'
  version: typeof REPOSITORY_FORMAT
  /** Random id of this repository. */
  id: string
  createdAt: string
  chunking: ChunkingParams & { hash: 'fnv1a32-fmix32' }
  /** Codec for new objects unless a snapshot asks for another, e.g. `zstd:3`. */
  compression: string
  /** Reserved for encryption parameters; null while the repository is not encrypted. */
  encryption: null
}

/**
 * The largest chunk a config may ask for: a chunk cut at this size, plus the row that ends it
 * and its columnar overhead, still fits what readers accept (MAX_OBJECT_BYTES).
 */
const MAX_CHUNK_BYTES = MAX_OBJECT_BYTES / 2
const chunkBytes = z.number().int().nonnegative().max(MAX_CHUNK_BYTES)

/** A config is input like any object: every value is bounded before anything uses it. */
const configSchema = z.object({
  format: z.literal('dbsnap-repository'),
  version: z.literal(REPOSITORY_FORMAT),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  createdAt: z.iso.datetime(),
  chunking: z
    .object({
      targetBytes: chunkBytes.min(1),
      minBytes: chunkBytes,
      maxBytes: chunkBytes.min(1),
      hash: z.literal('fnv1a32-fmix32'),
    })
    .refine((c) => c.minBytes <= c.targetBytes && c.targetBytes <= c.maxBytes, {
      message: 'expected minBytes <= targetBytes <= maxBytes',
    }),
  compression: z.string().refine(isCodec, { message: 'expected a compression DBSnap knows' }),
  encryption: z.null(),
})

function isCodec(text: string): boolean {
  try {
    parseCodec(text)
    return true
  } catch {
    return false
  }
}

/** Storage key of an object: `chunks/ab/abcdef…`. */
export function objectKey(id: string): string {
  return `chunks/${id.slice(0, 2)}/${id}`
}

export function manifestKey(id: string): string {
  return `snapshots/${id}`
}

export interface PutObjectResult {
  id: string
  /** False when the object was already stored (nothing written). */
  written: boolean
  /** Bytes written to storage (0 when not written). */
  storedBytes: number
}

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

export class Repository {
  readonly storage: Storage
  readonly config: RepositoryConfig
  readonly codec: CodecSpec

  private constructor(storage: Storage, config: RepositoryConfig) {
    this.storage = storage
    this.config = config
    this.codec = parseCodec(config.compression)
  }

  /**
   * Opens the repository at `storage`; with `create`, makes a new one where there is none.
   * Rejects with `REPOSITORY_NOT_FOUND` when there is none and `create` is false.
   */
  static async open(
    storage: Storage,
    options: { create?: boolean; compression?: CodecSpec; signal?: AbortSignal } = {},
  ): Promise<Repository> {
    let bytes: Uint8Array | null = null
    try {
      bytes = await storage.get('config', { signal: options.signal })
    } catch (err) {
      if (!isDbsnapError(err) || err.code !== 'STORAGE_NOT_FOUND') throw err
    }
    if (bytes === null) {
      if (options.create !== true) {
        throw new DbsnapError(
          'REPOSITORY_NOT_FOUND',
          `no DBSnap repository at ${storage.location}`,
          {
            details: { repository: storage.location },
          },
        )
      }
      const config: RepositoryConfig = {
        format: 'dbsnap-repository',
        version: REPOSITORY_FORMAT,
        id: randomBytes(16).toString('hex'),
        createdAt: new Date().toISOString(),
        chunking: { ...DEFAULT_CHUNKING, hash: 'fnv1a32-fmix32' },
        compression: formatCodec(options.compression ?? DEFAULT_CODEC),
        encryption: null,
      }
      await storage.put(
        'config',
        bytesSource(Buffer.from(`${JSON.stringify(config, null, 2)}\n`)),
        {
          signal: options.signal,
        },
      )
      return new Repository(storage, config)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8'))
    } catch (err) {
      throw new DbsnapError('REPOSITORY_INVALID', `${storage.location}/config is not JSON`, {
        cause: err,
      })
    }
    const result = configSchema.safeParse(parsed)
    if (!result.success) {
      const version = (parsed as { version?: unknown } | null)?.version
      throw new DbsnapError(
        'REPOSITORY_INVALID',
        typeof version === 'number' && version > REPOSITORY_FORMAT
          ? `${storage.location} is a repository of format ${version}; this DBSnap reads format ${REPOSITORY_FORMAT}: upgrade DBSnap`
          : `${storage.location}/config is not a DBSnap repository config: ${configIssue(result.error.issues[0])}`,
        { details: { repository: storage.location } },
      )
    }
    return new Repository(storage, result.data)
  }

  /** Whether an object is stored (one stat). */
  async hasObject(id: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.storage.stat(objectKey(id), { signal })) !== null
  }

  /**
   * Stores content under its id unless already there. `encoded` is the full stored object; the
   * caller computed `id` from the content (not from `encoded`, which may be a delta).
   */
  async putEncoded(id: string, encoded: Uint8Array, signal?: AbortSignal): Promise<number> {
    await this.storage.put(objectKey(id), bytesSource(encoded), { signal })
    return encoded.byteLength
  }

  /** Encodes and stores `content` as an object of `kind`, skipping the write if it exists. */
  async putObject(
    kind: ObjectKind,
    content: Uint8Array,
    options: { codec?: CodecSpec; signal?: AbortSignal } = {},
  ): Promise<PutObjectResult> {
    const id = contentId(content)
    if (await this.hasObject(id, options.signal)) {
      return { id, written: false, storedBytes: 0 }
    }
    const encoded = encodeObject(kind, options.codec ?? this.codec, content)
    return { id, written: true, storedBytes: await this.putEncoded(id, encoded, options.signal) }
  }

  /**
   * The content of an object, delta chains resolved, checked against its id.
   * Rejects with `DATA_CORRUPT` naming the object when anything does not match, and with
   * `STORAGE_NOT_FOUND` naming it when it (or a base) is missing. With `script`, the hash a
   * delta's index entry records (`ChunkEntry.script`), the stored bytes must also hash to it:
   * a delta that makes the right content may still not be the one a diff will accept.
   */
  async readObject(
    id: string,
    options: { signal?: AbortSignal; kind?: ObjectKind; bytes?: number; script?: string } = {},
  ): Promise<Buffer> {
    const { script, ...rest } = options
    return this.#content(id, await this.#decoded(id, rest, script), rest, 0)
  }

  /**
   * The lines of a data chunk (its canonical rows, without newlines), checked against its id like
   * `readObject`: what the diff, `show` and export read, row by row. `table` names the chunk's
   * table in errors.
   */
  async readLines(id: string, options: ChunkReadOptions = {}): Promise<string[]> {
    const dataOptions = { ...options, kind: 'data' } as const
    const content = await this.#content(id, await this.#decoded(id, options), dataOptions, 0)
    return splitLines(content.toString('utf8'))
  }

  /**
   * A data chunk's rows column by column, for a chunk of `width` columns, checked against its id
   * like `readLines`: its payload in the columnar layout (docs/snapshot-format.md), each value
   * as its JSON text in the canonical row line. A columnar chunk's payload is handed on as
   * stored: its content's bytes are rebuilt only to be hashed, and no string is made of a value
   * or a row. Other chunks (row layout, deltas) are turned into that layout.
   */
  async readColumns(
    id: string,
    width: number,
    options: ChunkReadOptions = {},
  ): Promise<{ rows: number; payload: Buffer }> {
    const what = chunkWhat(id, options.table)
    const decoded = await this.#decoded(id, options)
    const { header, payload } = decoded
    if (header.kind === 'data' && header.columnar) {
      const stored = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
      checkId(id, columnarContentId(stored, what, objectKey(id)), what, options.table)
      if (stored.readUInt32LE(4) === width) return { rows: stored.readUInt32LE(0), payload: stored }
    }
    const content = await this.#content(id, decoded, { ...options, kind: 'data' }, 0)
    let rows = 0
    for (let at = content.indexOf(0x0a); at !== -1; at = content.indexOf(0x0a, at + 1)) rows++
    try {
      return { rows, payload: rowsToColumnar(content, rows, width) }
    } catch (cause) {
      throw new DbsnapError(
        'DATA_CORRUPT',
        `${what} is corrupt: its rows are not arrays of the table's ${width} values`,
        { cause, details: corruptDetails(id, options.table) },
      )
    }
  }

  /**
   * A data object stored as a delta, proven: its edit script applied to its base (itself read and
   * checked against the base's id) makes content that hashes to `id`. A script alone proves
   * nothing, whatever checksum its frame carries: another valid script could stand in its place.
   * With `proof`, the hash of the stored object from the chunk's index entry (`ChunkEntry.script`)
   * and the base's row count from the base's entry, the stored bytes are checked against that hash
   * instead and the base is not read (decision 0015), unless the script holds an op from before
   * decision 0011, which does not carry the rows it drops.
   * Returns how many rows the base holds, the script's ops, each dropping op with the rows it
   * drops, and whether the base was read; null for a full object.
   */
  async readDelta(
    id: string,
    options: ChunkReadOptions & { proof?: { script: string; baseRows: number } } = {},
  ): Promise<{
    base: { id: string; depth: number }
    baseRows: number
    ops: AppliedDelta['ops']
    baseRead: boolean
  } | null> {
    const what = chunkWhat(id, options.table)
    const { proof } = options
    const { header, payload } = await this.#decoded(id, options, proof?.script)
    if (header.kind !== 'data' || header.base === null) return null
    if (proof !== undefined) {
      const ops = parseDelta(utf8(payload), proof.baseRows, what, objectKey(id))
      if (ops.every(carriesLines)) {
        return { base: header.base, baseRows: proof.baseRows, ops, baseRead: false }
      }
    }
    const { baseRows, ops } = await this.#delta(id, header.base, payload, options, 0)
    return { base: header.base, baseRows, ops, baseRead: true }
  }

  /**
   * Fetches and decodes an object, bounded by `options.bytes` (`decodeChunk`). With `script`,
   * the stored bytes must first hash to it (the `script` hash of a delta's index entry).
   */
  async #decoded(
    id: string,
    options: { signal?: AbortSignal; table?: string; bytes?: number },
    script?: string,
  ): Promise<ReturnType<typeof decodeObject>> {
    const what = chunkWhat(id, options.table)
    const stored = await this.#get(objectKey(id), what, options.signal)
    if (script !== undefined && contentId(stored) !== script) {
      throw new DbsnapError(
        'DATA_CORRUPT',
        `${what} is corrupt: its stored bytes do not hash to the script hash its index entry records`,
        { details: corruptDetails(id, options.table) },
      )
    }
    return decodeChunk(stored, id, what, options)
  }

  /** The content of a decoded object `chain` deltas above the one asked for, checked. */
  async #content(
    id: string,
    decoded: ReturnType<typeof decodeObject>,
    options: { signal?: AbortSignal; kind?: ObjectKind; table?: string; bytes?: number },
    chain: number,
  ): Promise<Buffer> {
    const what = chunkWhat(id, options.table)
    const { header, payload } = decoded
    if (options.kind !== undefined && header.kind !== options.kind) {
      throw new DbsnapError(
        'DATA_CORRUPT',
        `${what} is corrupt: a ${header.kind} object where a ${options.kind} object belongs`,
        { details: corruptDetails(id, options.table) },
      )
    }
    if (header.base !== null) {
      return Buffer.concat((await this.#delta(id, header.base, payload, options, chain)).pieces)
    }
    const content = header.columnar
      ? decodeColumnar(payload, what, objectKey(id))
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    checkId(id, contentId(content), what, options.table)
    return content
  }

  /** Applies a delta's `script` to its base, both checked (`readDelta`). */
  async #delta(
    id: string,
    base: { id: string },
    script: Uint8Array,
    options: { signal?: AbortSignal; table?: string; bytes?: number },
    chain: number,
  ): Promise<AppliedDelta> {
    const what = chunkWhat(id, options.table)
    checkChain(id, chain, what, options.table)
    const baseOptions = { ...options, kind: 'data', bytes: this.#baseBytes(options.bytes) } as const
    const baseContent = await this.#content(
      base.id,
      await this.#decoded(base.id, baseOptions),
      baseOptions,
      chain + 1,
    )
    const applied = applyDelta(baseContent, utf8(script), what, objectKey(id))
    checkId(id, contentId(applied.pieces), what, options.table)
    return applied
  }

  /** The base of a stored delta object (reading only its header), or null for a full object. */
  async objectBase(
    id: string,
    signal?: AbortSignal,
  ): Promise<{ id: string; depth: number } | null> {
    const what = `object ${id}`
    const head = await this.#get(objectKey(id), what, signal, { offset: 0, length: 64 })
    return decodeHeader(head, what, objectKey(id)).base
  }

  /** The chunk list of a table, from its index object. */
  async readIndex(id: string, signal?: AbortSignal): Promise<ChunkEntry[]> {
    const content = await this.readObject(id, { signal, kind: 'index' })
    return splitLines(content.toString('utf8')).map((line) => {
      const parsed = chunkEntrySchema.safeParse(safeJson(line))
      if (!parsed.success) {
        throw new DbsnapError(
          'DATA_CORRUPT',
          `index ${id} is corrupt: a chunk entry is malformed`,
          {
            details: { object: objectKey(id) },
          },
        )
      }
      return parsed.data
    })
  }

  /** Stores a manifest: the commit point of a snapshot. Returns the snapshot id. */
  async putManifest(
    manifest: SnapshotManifest,
    signal?: AbortSignal,
  ): Promise<{ id: string; storedBytes: number }> {
    const content = Buffer.from(JSON.stringify(manifest), 'utf8')
    return this.putNamed('snapshots/', 'manifest', content, signal)
  }

  /**
   * Stores `content` at `<prefix><id>`, its id the SHA-256 of the content, so that reading it
   * back checks it (`readNamed`). Written in one put: the object is there whole or not at all.
   */
  async putNamed(
    prefix: string,
    kind: ObjectKind,
    content: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ id: string; storedBytes: number }> {
    const id = contentId(content)
    const encoded = encodeObject(kind, this.codec, content)
    await this.storage.put(`${prefix}${id}`, bytesSource(encoded), { signal })
    return { id, storedBytes: encoded.byteLength }
  }

  /**
   * The content of an object `putNamed` stored; `DATA_CORRUPT` naming it (as `what`) when its
   * kind or hash does not match, `STORAGE_NOT_FOUND` when it is missing.
   */
  async readNamed(
    prefix: string,
    kind: ObjectKind,
    id: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const key = `${prefix}${id}`
    const stored = await this.#get(key, what, signal)
    const { header, payload } = decodeObject(stored, what, key)
    if (header.kind !== kind || header.base !== null) {
      throw new DbsnapError('DATA_CORRUPT', `${what} is corrupt: not a ${kind} object`, {
        details: { object: key },
      })
    }
    if (contentId(payload) !== id) {
      throw new DbsnapError('DATA_CORRUPT', `${what} is corrupt: it does not hash to its id`, {
        details: { object: key },
      })
    }
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  }

  /** Reads and checks a manifest; `DATA_CORRUPT` names it when it does not check. */
  async readManifest(id: string, signal?: AbortSignal): Promise<SnapshotManifest> {
    const what = `snapshot ${id}`
    const payload = await this.readNamed('snapshots/', 'manifest', id, what, signal)
    const parsed = manifestSchema.safeParse(safeJson(payload.toString('utf8')))
    if (!parsed.success) {
      throw new DbsnapError('DATA_CORRUPT', `${what} is corrupt: its manifest is malformed`, {
        details: { object: manifestKey(id) },
      })
    }
    return parsed.data as unknown as SnapshotManifest
  }

  /** Ids of all committed snapshots. */
  async listSnapshotIds(signal?: AbortSignal): Promise<string[]> {
    const ids: string[] = []
    for await (const info of this.storage.list('snapshots/', { signal })) {
      const id = info.key.slice('snapshots/'.length)
      if (isObjectId(id)) ids.push(id)
    }
    return ids.sort()
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

  /**
   * The most content the base of a delta whose content is `bytes` long can have: the rows it
   * keeps are in the result, the rows it drops are in the script (itself at most `bytes`), or,
   * in a script from before decision 0011, in a base no larger than a chunk is cut (twice the
   * config's `maxBytes` leaves room for the row that ends it).
   */
  #baseBytes(bytes: number | undefined): number | undefined {
    return bytes === undefined ? undefined : 2 * Math.max(bytes, this.config.chunking.maxBytes)
  }

  async #get(
    key: string,
    what: string,
    signal: AbortSignal | undefined,
    range?: { offset: number; length: number },
  ): Promise<Uint8Array> {
    try {
      return await this.storage.get(key, { signal, ...(range === undefined ? {} : { range }) })
    } catch (err) {
      if (isDbsnapError(err) && err.code === 'STORAGE_NOT_FOUND') {
        throw new DbsnapError('STORAGE_NOT_FOUND', `${what} is missing from the repository`, {
          cause: err,
          details: { object: key },
        })
      }
      throw err
    }
  }
}

/** One problem of a config, with where it is: `chunking.maxBytes: Too big: …`. */
function configIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid'
  const path = issue.path.map(String).join('.')
  return path === '' ? issue.message : `${path}: ${issue.message}`
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The buffer `columnarContentId` rebuilds content in; one up to `HASH_SCRATCH_MAX` is kept. */
let hashScratch: Buffer = Buffer.alloc(0)
const HASH_SCRATCH_MAX = 16 * 1024 * 1024

/**
 * The id of a columnar payload's content, rebuilt in a buffer reused chunk after chunk: a reader
 * of columns only hashes the content, and a fresh megabyte per chunk keeps the GC busy. The
 * rebuild and the hash are synchronous, so one buffer serves every read.
 */
function columnarContentId(payload: Uint8Array, what: string, key: string): string {
  const content = decodeColumnar(payload, what, key, hashScratch)
  const id = contentId(content)
  // A content that did not fit was built in a buffer of its own: the next one reuses it.
  if (content.byteLength > hashScratch.byteLength && content.byteLength <= HASH_SCRATCH_MAX) {
    hashScratch = content
  }
  return id
}

/** What a data chunk read names in messages and error details. */
export interface ChunkReadOptions {
  signal?: AbortSignal
  /** The chunk's table (`schema.name`), named in errors when known. */
  table?: string
  /**
   * The content length the chunk's index entry records. A header promising a larger payload
   * than that allows is refused before anything is decompressed.
   */
  bytes?: number
}

/**
 * `decodeObject` of a data chunk whose content should be `options.bytes` long, refusing first a
 * header that declares more payload than such a chunk can have: a row-layout payload is the
 * content; a columnar one drops 2 bytes a row and adds 8 + 4 a column (a column takes at least
 * 2 bytes of a row), so at most 3 × content + 8; an edit script is at most half its chunk
 * (snapshots write no larger one), so at most the content.
 */
function decodeChunk(
  stored: Uint8Array,
  id: string,
  what: string,
  options: { bytes?: number; table?: string },
): ReturnType<typeof decodeObject> {
  if (options.bytes !== undefined) {
    const header = decodeHeader(stored, what, objectKey(id))
    const limit = header.columnar ? 3 * options.bytes + 8 : options.bytes
    if (header.payloadBytes > limit) {
      throw new DbsnapError(
        'DATA_CORRUPT',
        `${what} is corrupt: its header declares a payload of ${header.payloadBytes} bytes, its index entry allows at most ${limit}`,
        { details: corruptDetails(id, options.table) },
      )
    }
  }
  return decodeObject(stored, what, objectKey(id))
}

/** A payload's bytes as text, without copying them first. */
function utf8(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
}

/** Whether an edit script's op is complete for a diff: a dropping op carries the rows it drops. */
function carriesLines(op: DeltaOp): op is AppliedDelta['ops'][number] {
  return op.op !== '-' || op.lines !== undefined
}

function chunkWhat(id: string, table: string | undefined): string {
  return table === undefined ? `object ${id}` : `chunk ${id} of ${table}`
}

function corruptDetails(id: string, table: string | undefined): Record<string, string> {
  return table === undefined ? { object: objectKey(id) } : { object: objectKey(id), table }
}

/**
 * `DATA_CORRUPT` for a delta `chain` deltas above the object asked for, when that makes a chain
 * longer than snapshots write: a delta stored under its own base's id would loop forever.
 */
function checkChain(id: string, chain: number, what: string, table?: string): void {
  if (chain >= MAX_DELTA_DEPTH) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `${what} is corrupt: its delta chain is longer than ${MAX_DELTA_DEPTH}`,
      { details: corruptDetails(id, table) },
    )
  }
}

/** `DATA_CORRUPT` unless content that hashes to `actual` is the object `id` names. */
function checkId(id: string, actual: string, what: string, table?: string): void {
  if (actual !== id) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `${what} is corrupt: its content does not hash to its id`,
      {
        details: corruptDetails(id, table),
      },
    )
  }
}
