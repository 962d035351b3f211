// The content-addressed objects of a repository (docs/snapshot-format.md, "Objects"): stored
// under the SHA-256 of their content and checked against it at every read, delta chains resolved
// and bounded. `Repository` builds the rest of the format (manifests, saved diffs, locks) on it.

import { DbsnapError, isDbsnapError } from '../errors.js'
import { bytesSource, type Storage } from '../storage/storage.js'
import { splitLines } from '../canonical/value-encoding.js'
import { tryParseJson } from '../util/try-parse-json.js'
import { parseCodec, type CodecSpec } from './codec.js'
import { decodeColumnar, rowsToColumnar } from './columnar.js'
import { applyDelta, parseDelta, type AppliedDelta } from './delta.js'
import { objectKey } from './layout.js'
import { chunkEntrySchema, type ChunkEntry } from './manifest.js'
import {
  carriesLines,
  checkChain,
  checkId,
  chunkWhat,
  columnarContentId,
  corruptDetails,
  decodeChunk,
  utf8,
} from './object-checks.js'
import {
  contentId,
  decodeHeader,
  decodeObject,
  encodeObject,
  type ObjectKind,
} from './object-format.js'
import type { RepositoryConfig } from './repository-config.js'

export interface PutObjectResult {
  id: string
  /** False when the object was already stored (nothing written). */
  written: boolean
  /** Bytes written to storage (0 when not written). */
  storedBytes: number
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

/** The objects half of a `Repository`, which extends it; not opened on its own. */
export class ObjectStore {
  readonly config: RepositoryConfig
  readonly codec: CodecSpec
  /** Reached only through the repository's methods: they alone know its layout. */
  protected readonly storage: Storage

  protected constructor(storage: Storage, config: RepositoryConfig) {
    this.storage = storage
    this.config = config
    this.codec = parseCodec(config.compression)
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
    const stored = await this.fetch(objectKey(id), what, options.signal)
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
    const head = await this.fetch(objectKey(id), what, signal, { offset: 0, length: 64 })
    return decodeHeader(head, what, objectKey(id)).base
  }

  /** The chunk list of a table, from its index object. */
  async readIndex(id: string, signal?: AbortSignal): Promise<ChunkEntry[]> {
    const content = await this.readObject(id, { signal, kind: 'index' })
    return splitLines(content.toString('utf8')).map((line) => {
      const parsed = chunkEntrySchema.safeParse(tryParseJson(line))
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

  /**
   * Stores `content` at `key(id)`, its id the SHA-256 of the content, so that reading it back
   * checks it (`readNamed`). Written in one put: the object is there whole or not at all.
   */
  protected async putNamed(
    key: (id: string) => string,
    kind: ObjectKind,
    content: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ id: string; storedBytes: number }> {
    const id = contentId(content)
    const encoded = encodeObject(kind, this.codec, content)
    await this.storage.put(key(id), bytesSource(encoded), { signal })
    return { id, storedBytes: encoded.byteLength }
  }

  /**
   * The content of an object `putNamed` stored at `key`; `DATA_CORRUPT` naming it (as `what`)
   * when its kind or hash does not match, `STORAGE_NOT_FOUND` when it is missing.
   */
  protected async readNamed(
    key: string,
    kind: ObjectKind,
    id: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const stored = await this.fetch(key, what, signal)
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

  /**
   * The most content the base of a delta whose content is `bytes` long can have: the rows it
   * keeps are in the result, the rows it drops are in the script (itself at most `bytes`), or,
   * in a script from before decision 0011, in a base no larger than a chunk is cut (twice the
   * config's `maxBytes` leaves room for the row that ends it).
   */
  #baseBytes(bytes: number | undefined): number | undefined {
    return bytes === undefined ? undefined : 2 * Math.max(bytes, this.config.chunking.maxBytes)
  }

  protected async fetch(
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
