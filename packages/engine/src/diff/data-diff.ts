// Data diff of one table between two snapshots, at a cost that grows with the change.
//
// Chunk boundaries are cut after keys whose hash matches (docs/snapshot-format.md), so both
// snapshots cut at the same keys wherever the data around them did not change. Walking the two
// chunk lists in step, equal chunk ids are skipped unread; a run of differing chunks ends at the
// next key that ends a chunk on both sides, so both runs ("regions") cover the same key range.
// Inside a region the rows are joined by key text: no comparison of keys is ever needed, so the
// result cannot depend on a collation or on the BSON order that only the database knows.

import { lineKeyText, rawValues, rowKey, type CanonicalRow } from '../canonical/value-encoding.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import type { AppliedDelta } from '../repository/delta.js'
import type { ChunkEntry } from '../repository/manifest.js'
import type { Repository } from '../repository/repository.js'
import type { RowChange, TableRef } from './diff-format.js'
import { fieldChanges, type ColumnPair } from './field-diff.js'

/** One side of a table: where its chunks are, and how its rows are laid out. */
export interface TableSide {
  repository: Repository
  chunks: ChunkEntry[]
  columns: string[]
  /** Key columns; null when the table has none (rows then compare as a multiset). */
  key: string[] | null
}

export interface TableDataDiffOptions {
  /** The table, as changes name it. */
  table: TableRef
  /** Columns compared field by field: the ones both sides have, with how to compare them. */
  columns: ColumnPair[]
  signal?: AbortSignal
  /** Called for each chunk read, and for each chunk skipped unread. */
  onChunk?: (read: boolean) => void
}

/**
 * The row changes that turn table `a` into table `b`, region by region in key order (inside a
 * region, rows in `b`'s order with removed rows placed where `a` had them).
 */
export async function* diffTableData(
  a: TableSide,
  b: TableSide,
  options: TableDataDiffOptions,
): AsyncGenerator<RowChange> {
  const keyed = a.key !== null && b.key !== null && a.key.join('\0') === b.key.join('\0')
  if (!keyed) {
    yield* diffAsMultiset(a, b, options)
    return
  }
  for (const region of alignRegions(a.chunks, b.chunks)) {
    throwIfAborted(options.signal)
    if (region.equal) {
      options.onChunk?.(false)
      continue
    }
    const delta = await deltaBetween(a, b, region, options)
    if (delta === null) yield* diffRegion(a, b, region.a, region.b, options)
    else yield* diffDelta(a, b, region.a[0]!, delta, options)
  }
}

interface Region {
  equal: boolean
  a: ChunkEntry[]
  b: ChunkEntry[]
}

/**
 * Splits two chunk lists of the same table into aligned regions: single equal chunks, and runs
 * of differing chunks that end at a key ending a chunk on both sides (or at the end).
 */
export function* alignRegions(a: ChunkEntry[], b: ChunkEntry[]): Generator<Region> {
  const endsOfB = new Set(b.map((chunk) => JSON.stringify(chunk.last)))
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const chunkA = a[i]
    const chunkB = b[j]
    if (chunkA !== undefined && chunkB !== undefined && chunkA.id === chunkB.id) {
      yield { equal: true, a: [chunkA], b: [chunkB] }
      i++
      j++
      continue
    }
    const regionA: ChunkEntry[] = []
    let end: string | null = null
    while (i < a.length) {
      const chunk = a[i++]!
      regionA.push(chunk)
      const last = JSON.stringify(chunk.last)
      if (endsOfB.has(last)) {
        end = last
        break
      }
    }
    const regionB: ChunkEntry[] = []
    while (j < b.length) {
      const chunk = b[j++]!
      regionB.push(chunk)
      // Without a common end (a was exhausted), b's remaining chunks all belong here.
      if (end !== null && JSON.stringify(chunk.last) === end) break
    }
    yield { equal: false, a: regionA, b: regionB }
  }
}

/**
 * Joins the rows of one region by key. `a`'s rows of the region are held in memory (a region is
 * a few chunks unless keys changed wholesale); `b`'s are streamed chunk by chunk. Rows are kept
 * as their canonical lines and compared as text: only rows that differ are parsed.
 */
async function* diffRegion(
  a: TableSide,
  b: TableSide,
  chunksA: ChunkEntry[],
  chunksB: ChunkEntry[],
  options: TableDataDiffOptions,
): AsyncGenerator<RowChange> {
  const { table } = options
  const keyA = keyColumns(a)
  const keyB = keyColumns(b)
  const removed = (line: string): RowChange => {
    const old = JSON.parse(line) as CanonicalRow
    return { ...table, change: 'removed', key: rowKey(old, keyA), old }
  }
  if (chunksB.length === 0) {
    // Only removed rows (a dropped table, a deleted range): streamed, never held.
    for await (const line of linesOf(a.repository, chunksA, options)) yield removed(line)
    return
  }
  const linesA: string[] = []
  for await (const line of linesOf(a.repository, chunksA, options)) linesA.push(line)
  // Key text -> position in `linesA`; matched keys are deleted, the ones left were removed.
  const positions = new Map<string, number>()
  linesA.forEach((line, index) => positions.set(lineKeyText(line, keyA), index))
  let nextA = 0
  /** The unmatched rows of `a` before position `limit`, as removed: they sort before it. */
  const removedBefore = function* (limit: number): Generator<RowChange> {
    for (; nextA < limit; nextA++) {
      const line = linesA[nextA]!
      const key = lineKeyText(line, keyA)
      if (positions.get(key) === nextA) {
        positions.delete(key)
        yield removed(line)
      }
    }
  }
  for await (const line of linesOf(b.repository, chunksB, options)) {
    const key = lineKeyText(line, keyB)
    const at = positions.get(key)
    if (at === undefined) {
      const row = JSON.parse(line) as CanonicalRow
      yield { ...table, change: 'added', key: rowKey(row, keyB), new: row }
      continue
    }
    yield* removedBefore(at)
    positions.delete(key)
    nextA = Math.max(nextA, at + 1)
    const before = linesA[at]!
    if (before === line) continue
    const changed = changedColumns(before, line, options.columns)
    if (changed.length === 0) continue
    const old = JSON.parse(before) as CanonicalRow
    const row = JSON.parse(line) as CanonicalRow
    const fields = fieldChanges(old, row, changed)
    yield { ...table, change: 'modified', key: rowKey(row, keyB), old, new: row, fields }
  }
  yield* removedBefore(linesA.length)
}

/** An edit script over a chunk of `a`, and whether that chunk was read to prove it. */
type ChunkDelta = Pick<AppliedDelta, 'baseRows' | 'ops'> & { baseRead: boolean }

/**
 * The edit script that turns the region's only `a` chunk into its only `b` chunk, when `b` was
 * stored that way (a snapshot stores a changed chunk as a delta over the previous snapshot's):
 * then only the rows the script touches are compared. The script is proven by the hash `b`'s
 * index entry records of it; from an index without that hash, by applying it to `a`, which is then
 * read too (decision 0015).
 */
async function deltaBetween(
  a: TableSide,
  b: TableSide,
  region: Region,
  options: TableDataDiffOptions,
): Promise<ChunkDelta | null> {
  const [chunkA] = region.a
  const [chunkB] = region.b
  if (region.a.length !== 1 || region.b.length !== 1 || chunkA === undefined) return null
  if (chunkB?.deps?.[0] !== chunkA.id) return null
  const delta = await b.repository.readDelta(chunkB.id, {
    signal: options.signal,
    table: options.table.table,
    bytes: chunkB.bytes,
    proof:
      chunkB.script === undefined ? undefined : { script: chunkB.script, baseRows: chunkA.rows },
  })
  return delta?.base.id === chunkA.id ? delta : null
}

/**
 * One chunk pair where `b` is an edit script over `a`: only the rows the script drops or inserts
 * can differ. A row dropped and inserted again under the same key is a modified row.
 */
function* diffDelta(
  a: TableSide,
  b: TableSide,
  chunkA: ChunkEntry,
  delta: ChunkDelta,
  options: TableDataDiffOptions,
): Generator<RowChange> {
  const { table } = options
  const keyA = keyColumns(a)
  const keyB = keyColumns(b)
  if (delta.baseRows !== chunkA.rows) throw corruptIndex(chunkA)
  // The script was read, and the base too when the script was proven against it.
  options.onChunk?.(true)
  options.onChunk?.(delta.baseRead)
  // Rows dropped and not (yet) inserted again, by key; flushed as removed at the next copy.
  let dropped = new Map<string, string>()
  const flush = function* (): Generator<RowChange> {
    for (const line of dropped.values()) {
      const old = JSON.parse(line) as CanonicalRow
      yield { ...table, change: 'removed', key: rowKey(old, keyA), old }
    }
    dropped = new Map()
  }
  for (const step of delta.ops) {
    if (step.op === '=') yield* flush()
    else if (step.op === '-') {
      for (const line of step.lines) dropped.set(lineKeyText(line, keyA), line)
    } else {
      for (const line of step.lines) {
        const key = lineKeyText(line, keyB)
        const before = dropped.get(key)
        const row = JSON.parse(line) as CanonicalRow
        if (before === undefined) {
          yield { ...table, change: 'added', key: rowKey(row, keyB), new: row }
          continue
        }
        dropped.delete(key)
        const changed = changedColumns(before, line, options.columns)
        if (changed.length === 0) continue
        const old = JSON.parse(before) as CanonicalRow
        const fields = fieldChanges(old, row, changed)
        yield { ...table, change: 'modified', key: rowKey(row, keyB), old, new: row, fields }
      }
    }
  }
  yield* flush()
}

/** The chunk index says a chunk holds more or fewer rows than it does. */
function corruptIndex(chunk: ChunkEntry): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `object ${chunk.id} is corrupt: its index entry says ${chunk.rows} rows`,
    { details: { object: chunk.id } },
  )
}

/** The column pairs whose values differ, compared as JSON texts (equal texts: equal values). */
function changedColumns(lineA: string, lineB: string, pairs: ColumnPair[]): ColumnPair[] {
  const valuesA = rawValues(lineA)
  const valuesB = rawValues(lineB)
  return pairs.filter((pair) => valuesA[pair.a] !== valuesB[pair.b])
}

/**
 * A table without a key (or whose key changed) compares as a multiset of rows: the rows of the
 * chunks only one side has, counted on the columns both sides have. Equal chunks cancel out
 * unread.
 */
async function* diffAsMultiset(
  a: TableSide,
  b: TableSide,
  options: TableDataDiffOptions,
): AsyncGenerator<RowChange> {
  const countsOfB = new Map<string, number>()
  for (const chunk of b.chunks) countsOfB.set(chunk.id, (countsOfB.get(chunk.id) ?? 0) + 1)
  const onlyA: ChunkEntry[] = []
  for (const chunk of a.chunks) {
    const left = countsOfB.get(chunk.id) ?? 0
    if (left > 0) {
      countsOfB.set(chunk.id, left - 1)
      options.onChunk?.(false)
    } else onlyA.push(chunk)
  }
  const onlyB = b.chunks.filter((chunk) => {
    const left = countsOfB.get(chunk.id) ?? 0
    if (left === 0) return false
    countsOfB.set(chunk.id, left - 1)
    return true
  })
  const projected = (line: string, side: 'a' | 'b'): string => {
    const values = rawValues(line)
    return options.columns.map((pair) => values[pair[side]] ?? 'null').join(',')
  }
  const remaining = new Map<string, string[]>()
  for await (const line of linesOf(a.repository, onlyA, options)) {
    const text = projected(line, 'a')
    const same = remaining.get(text)
    if (same === undefined) remaining.set(text, [line])
    else same.push(line)
  }
  for await (const line of linesOf(b.repository, onlyB, options)) {
    const same = remaining.get(projected(line, 'b'))
    if (same !== undefined && same.length > 0) same.pop()
    else
      yield {
        ...options.table,
        change: 'added',
        key: null,
        new: JSON.parse(line) as CanonicalRow,
      }
  }
  for (const lines of remaining.values()) {
    for (const line of lines) {
      yield {
        ...options.table,
        change: 'removed',
        key: null,
        old: JSON.parse(line) as CanonicalRow,
      }
    }
  }
}

function keyColumns(side: TableSide): number[] {
  return (side.key ?? []).map((column) => side.columns.indexOf(column))
}

/** The canonical row lines of chunks, in order; one chunk in memory at a time. */
async function* linesOf(
  repository: Repository,
  chunks: ChunkEntry[],
  options: TableDataDiffOptions,
): AsyncGenerator<string> {
  for (const chunk of chunks) {
    throwIfAborted(options.signal)
    const lines = await repository.readLines(chunk.id, {
      signal: options.signal,
      table: options.table.table,
      bytes: chunk.bytes,
    })
    options.onChunk?.(true)
    yield* lines
  }
}
