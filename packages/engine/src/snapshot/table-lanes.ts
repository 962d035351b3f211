// How a snapshot schedules its tables: read on the view's readers at once (`inLanes`), largest
// first, and stored in the background while the next ones are read (`TablesFinishing`).

import { TableNotClaimed, type TableReader } from '../adapters/source-adapter.js'
import type { TableSchema } from '../schema/schema.js'

/**
 * Tables whose last chunks and index may still be being stored while the next table is read.
 * Storing a small table is mostly waiting (fsync, S3 round trips): overlapped with reading the
 * next ones, a database of many small tables is not read one wait at a time. Each such table
 * holds at most `concurrency` chunks in flight, and all together at most the snapshot's
 * `ChunkSlots`, so memory stays bounded.
 */
export const TABLES_FINISHING = 4

/**
 * Runs `work` for every index of `order` (each once, in that order) on `readers`, one at a time
 * per reader. An extra reader first `claim`s its table, or its read rejects with
 * `TableNotClaimed` before any row; a table it cannot claim is left to the view (`readers[0]`),
 * which holds every table's lock. On the first failure the others are
 * aborted, and it is thrown once all have stopped: nothing still reads when this settles.
 */
export async function inLanes(
  readers: readonly TableReader[],
  order: number[],
  options: {
    signal: AbortSignal | undefined
    claim: (reader: TableReader, index: number, signal: AbortSignal) => Promise<boolean>
    work: (reader: TableReader, index: number, signal: AbortSignal) => Promise<void>
  },
): Promise<void> {
  const stop = new AbortController()
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal])
  const lanes = readers.slice(0, Math.max(1, Math.min(readers.length, order.length)))
  let next = 0
  /** Tables the extra readers left to the view. */
  const leftToView: number[] = []
  let extraLanes = lanes.length - 1
  let wakeView: (() => void) | undefined
  const wake = (): void => {
    wakeView?.()
    wakeView = undefined
  }
  let failure: { error: unknown } | undefined
  /** The next table for a lane; the view's waits while another lane may still leave it one. */
  const take = async (view: boolean): Promise<number | undefined> => {
    for (;;) {
      if (failure !== undefined) return undefined
      if (view && leftToView.length > 0) return leftToView.shift()
      if (next < order.length) return order[next++]
      if (!view || extraLanes === 0) return undefined
      await new Promise<void>((resolve) => (wakeView = resolve))
    }
  }
  /** Works on `index` on an extra reader; false when it could not take the table's lock. */
  const readClaimed = async (reader: TableReader, index: number): Promise<boolean> => {
    if (!(await options.claim(reader, index, signal))) return false
    try {
      await options.work(reader, index, signal)
      return true
    } catch (err) {
      if (err instanceof TableNotClaimed) return false
      throw err
    }
  }
  const lane = async (reader: TableReader, view: boolean): Promise<void> => {
    try {
      for (let index = await take(view); index !== undefined; index = await take(view)) {
        if (view) {
          await options.work(reader, index, signal)
        } else if (!(await readClaimed(reader, index))) {
          leftToView.push(index)
          wake()
        }
      }
    } catch (error) {
      failure ??= { error }
      stop.abort()
    } finally {
      if (!view) extraLanes--
      wake()
    }
  }
  await Promise.all(lanes.map((reader, i) => lane(reader, i === 0)))
  if (failure !== undefined) throw failure.error
}

/**
 * The order tables are read in: as listed on one reader; largest first on several, so that a
 * big table does not start last and leave the other readers idle (as pg_dump -j orders them).
 * The manifest lists them as listed, whatever the order of reading.
 */
export function readingOrder(tables: TableSchema[], readers: number): number[] {
  const order = tables.map((_, index) => index)
  if (readers <= 1) return order
  const size = (t: TableSchema): number => t.estimatedBytes ?? t.estimatedRows ?? 0
  return order.sort((a, b) => size(tables[b]!) - size(tables[a]!) || a - b)
}

/** Work that finishes in the background, at most `limit` at once; results by index. */
export class TablesFinishing<T> {
  readonly #limit: number
  readonly #all: Promise<T>[] = []
  readonly #pending = new Set<Promise<void>>()
  #failure: { error: unknown } | undefined

  constructor(limit: number) {
    this.#limit = limit
  }

  /** Adds the one of `index`; waits while `limit` are pending; throws the first failure so far. */
  async add(index: number, work: Promise<T>): Promise<void> {
    this.#all[index] = work
    const tracked: Promise<void> = work
      .then(
        () => undefined,
        (error: unknown) => {
          this.#failure ??= { error }
        },
      )
      .finally(() => this.#pending.delete(tracked))
    this.#pending.add(tracked)
    while (this.#pending.size >= this.#limit) await Promise.race(this.#pending)
    this.#rethrow()
  }

  /** Every result, by index, once all have finished; or the first failure. */
  async results(): Promise<T[]> {
    await this.settled()
    this.#rethrow()
    return Promise.all(this.#all)
  }

  /** Resolves once nothing is pending any more, failed or not. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.race(this.#pending)
  }

  #rethrow(): void {
    if (this.#failure !== undefined) throw this.#failure.error
  }
}
