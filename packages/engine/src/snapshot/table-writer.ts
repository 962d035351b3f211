// Turns one table's stream of canonical rows into stored chunks: cuts at key-defined boundaries,
// reuses chunks already stored, stores changed ranges as deltas over the previous snapshot's
// chunk when that is smaller, and keeps a fixed number of chunks in flight.

import {
  lineKeyText,
  rowKey,
  rowLine,
  splitLines,
  type CanonicalRow,
  type CanonicalValue,
} from '../canonical/value-encoding.js'
import { throwIfAborted } from '../errors.js'
import { chunkBitsFor, isBoundary, keyHash, type ChunkingParams } from '../repository/chunking.js'
import type { CodecSpec } from '../repository/codec.js'
import { columnarCapacity, rowsToColumnar } from '../repository/columnar.js'
import { MAX_DELTA_DEPTH, makeDelta, type KeyedLine } from '../repository/delta.js'
import type { ChunkEntry } from '../repository/manifest.js'
import { contentId, encodeObject } from '../repository/object-format.js'
import type { Repository } from '../repository/repository.js'

/** A delta is kept only when its script is at most this share of the full chunk. */
const DELTA_MAX_SHARE = 0.5

export interface ChunkWritten {
  rows: number
  bytes: number
  /** Bytes written to storage; 0 when the chunk was already stored. */
  storedBytes: number
  reused: boolean
}

export interface TableWriterOptions {
  repository: Repository
  codec: CodecSpec
  chunking: ChunkingParams
  /**
   * The table's chunk bits; null: chosen from its first rows, those up to the one that brings
   * their lines to `chunking.minBytes` (`chunkBitsFor` of their average size). No cut can come
   * before `minBytes`, so these are the same rows wherever the same table lives, and the choice
   * does not depend on planner statistics (a restored copy has other ones, and its chunks would
   * all differ).
   */
  chunkBits: number | null
  /** Values in each row (the table's column count). */
  columnCount: number
  /** Positions of the key columns in each row; null: the whole row is the key. */
  keyColumns: number[] | null
  /** The same table's chunks in the previous snapshot, if any. */
  previous: ChunkEntry[]
  /** Chunks processed at the same time (hash, delta, compress, upload). */
  concurrency: number
  /**
   * Chunks in flight across every writer of one snapshot, on top of `concurrency` each: with
   * several tables written at once, memory is bounded by the snapshot's total, not by each
   * table's. Default: none shared.
   */
  slots?: ChunkSlots
  /**
   * Buffers to reuse, shared by the writers of one snapshot so that each table (most are small)
   * does not allocate megabytes of its own. Default: the writer's own.
   */
  buffers?: ChunkBuffers
  signal?: AbortSignal
  onChunk?: (chunk: ChunkWritten) => void
}

/** A stored object's bytes, and the pooled buffer holding them (null: a buffer of its own). */
interface Encoded {
  bytes: Buffer
  buffer: Buffer | null
}

export class TableWriter {
  readonly #options: TableWriterOptions
  readonly #previousById = new Map<string, ChunkEntry>()
  readonly #previousByFirst = new Map<string, number>()
  /** Index in `previous` of the chunk the last cut chunk was based on, or -1. */
  #lastBase = -1
  readonly #entries: (ChunkEntry | undefined)[] = []
  readonly #inFlight = new Set<Promise<void>>()
  #failure: Error | undefined = undefined
  /**
   * The chunk being filled: canonical lines written straight into bytes (no per-row strings
   * kept). Taken from the pool by the chunk's first row, so that a cut leaves none taken for a
   * chunk that never comes (every table's last, and an empty table's only one).
   */
  #buffer: Buffer | null = null
  #bytes = 0
  #rows = 0
  readonly #contentPool: BufferPool
  readonly #columnarPool: BufferPool
  readonly #objectPool: BufferPool
  #firstKey: CanonicalValue[] | null = null
  #lastKey: CanonicalValue[] | null = null
  /** Null until the first rows have chosen them (`TableWriterOptions.chunkBits`). */
  #chunkBits: number | null
  rows = 0
  bytes = 0

  constructor(options: TableWriterOptions) {
    this.#options = options
    this.#chunkBits = options.chunkBits
    const buffers = options.buffers ?? new ChunkBuffers(options.chunking)
    this.#contentPool = buffers.content
    this.#columnarPool = buffers.columnar
    this.#objectPool = buffers.object
    options.previous.forEach((entry, index) => {
      this.#previousById.set(entry.id, entry)
      if (entry.first !== null) this.#previousByFirst.set(JSON.stringify(entry.first), index)
    })
  }

  /**
   * The table's chunk bits: those given, else those its first rows chose, else (a table that
   * ended before `minBytes`) those its rows would choose; 0 for an empty table.
   */
  get chunkBits(): number {
    if (this.#chunkBits !== null) return this.#chunkBits
    // No cut comes before the first rows choose: the rows so far are all in the current chunk.
    return this.#rows === 0 ? 0 : chunkBitsFor(this.#bytes / this.#rows, this.#options.chunking)
  }

  /** Adds a batch of rows in key order; waits while too many chunks are in flight. */
  async add(batch: CanonicalRow[]): Promise<void> {
    const { keyColumns, chunking } = this.#options
    const keyOf = (row: CanonicalRow): CanonicalValue[] | null =>
      keyColumns === null ? null : rowKey(row, keyColumns)
    for (const row of batch) {
      const line = rowLine(row)
      if (this.#rows === 0) this.#firstKey = keyOf(row)
      this.#append(line)
      // No cut comes before minBytes whatever the key hashes to: most rows of a small table never
      // need their key's text and hash. The last key is taken when a chunk ends (`#cut` reads it
      // at once) and when the batch does.
      if (this.#bytes < chunking.minBytes) continue
      const chunkBits = (this.#chunkBits ??= this.chunkBits)
      const keyValues = keyOf(row)
      const key = keyValues === null ? line : JSON.stringify(keyValues)
      if (isBoundary(keyHash(key), this.#bytes, chunkBits, chunking)) {
        this.#lastKey = keyValues
        await this.#cut()
      }
    }
    const last = batch.at(-1)
    if (last !== undefined && this.#rows > 0) this.#lastKey = keyOf(last)
  }

  /** Flushes the last chunk, waits for every upload; the chunk list in key order. */
  async finish(): Promise<ChunkEntry[]> {
    // A table that ended before `minBytes` chooses from all its rows, before the cut clears them.
    this.#chunkBits ??= this.chunkBits
    if (this.#rows > 0) await this.#cut()
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight)
    this.#rethrow()
    return this.#entries.map((entry) => entry!)
  }

  #append(line: string): void {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; grow before writing so nothing is cut.
    const needed = this.#bytes + line.length * 3 + 1
    let buffer = this.#buffer
    if (buffer === null) {
      buffer = this.#buffer = this.#contentPool.take(needed)
    } else if (needed > buffer.byteLength) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, buffer.byteLength * 2))
      buffer.copy(grown, 0, 0, this.#bytes)
      buffer = this.#buffer = grown
    }
    this.#bytes += buffer.write(line, this.#bytes, 'utf8')
    buffer[this.#bytes++] = 0x0a
    this.#rows++
  }

  async #cut(): Promise<void> {
    throwIfAborted(this.#options.signal)
    this.#rethrow()
    // A cut comes after a row: the buffer was taken.
    const full = this.#buffer!
    const content = full.subarray(0, this.#bytes)
    const rows = this.#rows
    const slot = this.#entries.length
    const first = this.#firstKey
    const last = this.#lastKey
    this.#entries.push(undefined)
    this.#buffer = null
    this.#bytes = 0
    this.#rows = 0
    const base = this.#baseFor(first)
    const slots = this.#options.slots
    if (slots !== undefined) await slots.take()
    const task = this.#store(content, rows, first, last, base).then(
      (entry) => {
        this.#entries[slot] = entry
        // Nothing holds on to the content once it is stored (compression and hashing copy).
        this.#contentPool.give(full)
      },
      (err: unknown) => {
        this.#failure ??= err instanceof Error ? err : new Error(String(err))
      },
    )
    const tracked = task.finally(() => {
      this.#inFlight.delete(tracked)
      slots?.give()
    })
    this.#inFlight.add(tracked)
    while (this.#inFlight.size >= this.#options.concurrency) await Promise.race(this.#inFlight)
    this.#rethrow()
  }

  /**
   * The previous snapshot's chunk a new chunk is most likely an edit of: the one with the same
   * first key, or else the one after the last chunk matched. Chunks come in key order in both
   * lists, so an insert or delete next to a boundary (which changes a chunk's first key) still
   * finds its base without comparing keys, which only the database's collation could do.
   */
  #baseFor(first: CanonicalValue[] | null): ChunkEntry | undefined {
    const previous = this.#options.previous
    const byFirst = first === null ? undefined : this.#previousByFirst.get(JSON.stringify(first))
    const index = byFirst ?? (this.#lastBase + 1 < previous.length ? this.#lastBase + 1 : -1)
    if (index < 0) return undefined
    this.#lastBase = index
    return previous[index]
  }

  /** Surfaces the first failure of a chunk in flight (awaits may have recorded one). */
  #rethrow(): void {
    const failure = this.#failure
    if (failure !== undefined) throw failure
  }

  async #store(
    content: Buffer,
    rows: number,
    first: CanonicalValue[] | null,
    last: CanonicalValue[] | null,
    previous: ChunkEntry | undefined,
  ): Promise<ChunkEntry> {
    const { repository, signal } = this.#options
    const id = contentId(content)
    const entry: ChunkEntry = { id, rows, bytes: content.byteLength, first, last }
    this.rows += rows
    this.bytes += content.byteLength
    const known = this.#previousById.get(id)
    if (known !== undefined) {
      if (known.deps !== undefined) entry.deps = known.deps
      if (known.script !== undefined) entry.script = known.script
      this.#report(entry, 0, true)
      return entry
    }
    if (await repository.hasObject(id, signal)) {
      // No `script`: bytes this snapshot did not write are proven only against their base.
      const deps = await this.#chainOf(id)
      if (deps.length > 0) entry.deps = deps
      this.#report(entry, 0, true)
      return entry
    }
    let encoded: Encoded | null = null
    if (previous !== undefined && (previous.deps?.length ?? 0) < MAX_DELTA_DEPTH) {
      const base = this.#keyedLines(
        await repository.readObject(previous.id, { signal, kind: 'data', bytes: previous.bytes }),
      )
      const script = makeDelta(
        base,
        this.#keyedLines(content),
        content.byteLength * DELTA_MAX_SHARE,
      )
      if (script !== null) {
        const deps = [previous.id, ...(previous.deps ?? [])]
        const payload = Buffer.from(script, 'utf8')
        encoded = this.#encode(payload, { base: { id: previous.id, depth: deps.length } })
        entry.deps = deps
        entry.script = contentId(encoded.bytes)
      }
    }
    if (encoded === null) {
      const { columnCount } = this.#options
      const buffer = this.#columnarPool.take(columnarCapacity(content.byteLength, columnCount))
      encoded = this.#encode(rowsToColumnar(content, rows, columnCount, buffer), {
        columnar: true,
      })
      // Compression is done with the payload; its buffer serves the next chunk.
      this.#columnarPool.give(buffer)
    }
    const storedBytes = await repository.putEncoded(id, encoded.bytes, signal)
    // Stored: the object's bytes are no longer read (a failed put leaves them to the GC).
    this.#objectPool.give(encoded.buffer)
    this.#report(entry, storedBytes, false)
    return entry
  }

  /** A stored object of `payload`, in a buffer of the pool. */
  #encode(
    payload: Uint8Array,
    options: { base?: { id: string; depth: number }; columnar?: boolean },
  ): Encoded {
    const into = this.#objectPool.take()
    const bytes = encodeObject('data', this.#options.codec, payload, { ...options, into })
    // An object too large for the pooled buffer got one of its own; the pooled one goes back.
    if (bytes.buffer !== into.buffer) this.#objectPool.give(into)
    return { bytes, buffer: bytes.buffer === into.buffer ? into : null }
  }

  /** The chain of bases under an already stored object, read from object headers. */
  async #chainOf(id: string): Promise<string[]> {
    const chain: string[] = []
    let base = await this.#options.repository.objectBase(id, this.#options.signal)
    while (base !== null && chain.length <= MAX_DELTA_DEPTH) {
      chain.push(base.id)
      base = await this.#options.repository.objectBase(base.id, this.#options.signal)
    }
    return chain
  }

  /**
   * The lines of a chunk's content with their keys, for matching rows against a base. Keys are
   * read from the line's text, not parsed: a delta's rows make no garbage of values.
   */
  #keyedLines(content: Buffer): KeyedLine[] {
    const keyColumns = this.#options.keyColumns
    return splitLines(content.toString('utf8')).map((line) => ({
      line,
      key: keyColumns === null ? line : lineKeyText(line, keyColumns),
    }))
  }

  #report(entry: ChunkEntry, storedBytes: number, reused: boolean): void {
    this.#options.onChunk?.({ rows: entry.rows, bytes: entry.bytes, storedBytes, reused })
  }
}

/**
 * Buffers for reuse, chunk after chunk: each chunk in flight holds one for its content, one for
 * its columnar payload and one for the stored object. Big buffers are freed only by a full GC,
 * and V8 lets 64 MiB of them pile up before it runs one; reused, they keep memory flat. Shared by
 * the writers of a snapshot, they are allocated once, not again for each table.
 */
export class ChunkBuffers {
  readonly content: BufferPool
  readonly columnar: BufferPool
  readonly object: BufferPool

  constructor(chunking: ChunkingParams) {
    // A chunk's buffers grow for an unusually large chunk; twice the usual size is kept. A
    // columnar payload is its content and a column table of 4 bytes a column.
    const usual = initialCapacity(chunking)
    this.content = new BufferPool(usual, 2 * usual)
    this.columnar = new BufferPool(usual + COLUMNAR_SLACK, 2 * usual + COLUMNAR_SLACK)
    this.object = new BufferPool(usual, 2 * usual)
  }
}

/**
 * A number of chunk slots shared by writers: `take` waits until one is free. Every slot taken is
 * given back when its chunk is stored or fails, so a waiter is never left behind.
 */
export class ChunkSlots {
  #free: number
  readonly #waiting: (() => void)[] = []

  constructor(count: number) {
    this.#free = count
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  give(): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next()
    else this.#free++
  }
}

/** Room kept in a pooled columnar buffer for the column table of a wide table. */
const COLUMNAR_SLACK = 64 * 1024

/** Buffers of at least a usual size, kept for reuse up to a limit each. */
class BufferPool {
  readonly #free: Buffer[] = []
  readonly #usual: number
  readonly #limit: number

  constructor(usual: number, limit: number) {
    this.#usual = usual
    this.#limit = limit
  }

  /** A buffer of at least `bytes` (default: the usual size), reused when one is free. */
  take(bytes = this.#usual): Buffer {
    const free = this.#free.pop()
    if (free !== undefined && free.byteLength >= bytes) return free
    return Buffer.allocUnsafeSlow(Math.max(bytes, this.#usual))
  }

  /** Returns a buffer for reuse; one that grew past the limit is left to the GC. */
  give(buffer: Buffer | null): void {
    if (buffer !== null && buffer.byteLength <= this.#limit) this.#free.push(buffer)
  }
}

/** Room for an average chunk and a little more; buffers grow for larger ones. */
function initialCapacity(chunking: ChunkingParams): number {
  return Math.min(chunking.maxBytes, Math.ceil(chunking.targetBytes * 1.25)) + 64 * 1024
}
