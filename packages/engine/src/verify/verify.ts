// `verify`: proves a repository's snapshots can be read back. Manifests are checked against
// their ids, every referenced object must exist, and a chosen subset of data chunks is read in
// full: decompressed, delta chains applied, hashed, parsed, row counts and first/last keys checked,
// and a delta's stored bytes against the `script` hash its index entry records.

import { DbsnapError, isDbsnapError, throwIfAborted } from '../errors.js'
import { rowKeyText, splitLines, type CanonicalRow } from '../canonical/value-encoding.js'
import type { ChunkEntry, TableEntry } from '../repository/manifest.js'
import { tableName } from '../schema/table-name.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { manifestKey, objectKey } from '../repository/layout.js'
import { byCodeUnit } from '../util/compare.js'

/** Which data chunks to read in full: a percentage, or part n of t (by chunk id). */
export type DataSubset = { percent: number } | { part: number; of: number }

/** Parses `--read-data-subset`: `5%`, `2.5%` or `n/t`. */
export function parseDataSubset(text: string): DataSubset {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim())
  if (percent !== null) {
    const value = Number(percent[1])
    if (value > 0 && value <= 100) return { percent: value }
  }
  const part = /^(\d+)\/(\d+)$/.exec(text.trim())
  if (part !== null) {
    const n = Number(part[1])
    const t = Number(part[2])
    if (t >= 1 && n >= 1 && n <= t) return { part: n, of: t }
  }
  throw new DbsnapError(
    'INVALID_ARGUMENT',
    `expected --read-data-subset as a percentage (5%) or a part n/t (1/10), got "${text}"`,
  )
}

export interface VerifyProblem {
  /** The storage key of the bad or missing object. */
  object: string
  code: string
  message: string
  /** Ids of the snapshots this problem breaks. */
  snapshots: string[]
}

export interface VerifyResult {
  snapshots: number
  objects: number
  dataChunksRead: number
  bytesRead: number
  problems: VerifyProblem[]
}

export interface VerifyOptions {
  /** Only these snapshots; default every snapshot. */
  snapshots?: StoredSnapshot[]
  readDataSubset?: DataSubset
  signal?: AbortSignal
  onProgress?: (event: {
    phase: 'manifests' | 'objects' | 'data'
    done: number
    total: number
  }) => void
  /** Chunks read at once. Default 4. */
  concurrency?: number
}

export async function verifyRepository(
  repository: Repository,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  return repository.withLock('shared', 'verify', options.signal, () =>
    verifyLocked(repository, options),
  )
}

async function verifyLocked(repository: Repository, options: VerifyOptions): Promise<VerifyResult> {
  const { signal } = options
  const problems: VerifyProblem[] = []
  const problem = (object: string, err: unknown, snapshots: string[]): void => {
    const code = isDbsnapError(err) ? err.code : 'INTERNAL'
    const message = err instanceof Error ? err.message : String(err)
    problems.push({ object, code, message, snapshots })
  }
  let snapshots = options.snapshots
  if (snapshots === undefined) {
    snapshots = await repository.listSnapshots({
      signal,
      onError: (id, err) => problem(manifestKey(id), err, [id]),
    })
  }
  options.onProgress?.({ phase: 'manifests', done: snapshots.length, total: snapshots.length })

  // Which snapshots each object holds up, and the chunk entries to check data against.
  const users = new Map<string, Set<string>>()
  const entries = new Map<string, { chunk: ChunkEntry; table: TableEntry }>()
  const use = (id: string, snapshot: string): void => {
    let set = users.get(id)
    if (set === undefined) users.set(id, (set = new Set()))
    set.add(snapshot)
  }
  for (const snapshot of snapshots) {
    for (const table of snapshot.manifest.tables) {
      throwIfAborted(signal)
      use(table.index, snapshot.id)
      let chunks: ChunkEntry[]
      try {
        chunks = await repository.readIndex(table.index, signal)
      } catch (err) {
        if (isDbsnapError(err) && err.code === 'ABORTED') throw err
        problem(objectKey(table.index), err, [snapshot.id])
        continue
      }
      if (chunks.length !== table.chunks || sum(chunks.map((c) => c.rows)) !== table.rows) {
        problems.push({
          object: objectKey(table.index),
          code: 'DATA_CORRUPT',
          message: `index of ${tableName(table)} lists ${chunks.length} chunks of ${sum(chunks.map((c) => c.rows))} rows; the manifest says ${table.chunks} chunks of ${table.rows} rows`,
          snapshots: [snapshot.id],
        })
      }
      for (const chunk of chunks) {
        use(chunk.id, snapshot.id)
        for (const dep of chunk.deps ?? []) use(dep, snapshot.id)
        // An entry that records its delta's `script` hash is the one to check the object by.
        const seen = entries.get(chunk.id)
        if (seen === undefined || (seen.chunk.script === undefined && chunk.script !== undefined)) {
          entries.set(chunk.id, { chunk, table })
        }
      }
    }
  }

  // Presence: one listing instead of one request per object.
  const stored = new Set<string>()
  for await (const info of repository.listObjects({ signal })) stored.add(info.key)
  let checked = 0
  for (const [id, holders] of users) {
    checked++
    if (!stored.has(objectKey(id))) {
      problems.push({
        object: objectKey(id),
        code: 'STORAGE_NOT_FOUND',
        message: `object ${id} is missing`,
        snapshots: [...holders].sort(),
      })
    }
  }
  options.onProgress?.({ phase: 'objects', done: checked, total: users.size })

  let dataChunksRead = 0
  let bytesRead = 0
  const subset = options.readDataSubset
  if (subset !== undefined) {
    const chosen = [...entries.values()].filter(
      ({ chunk }) => inSubset(chunk.id, subset) && stored.has(objectKey(chunk.id)),
    )
    const queue = [...chosen]
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        throwIfAborted(signal)
        const { chunk, table } = next
        try {
          const content = await repository.readObject(chunk.id, {
            signal,
            kind: 'data',
            bytes: chunk.bytes,
            script: chunk.script,
          })
          bytesRead += content.byteLength
          checkRows(content.toString('utf8'), chunk, table)
        } catch (err) {
          if (isDbsnapError(err) && err.code === 'ABORTED') throw err
          const object =
            isDbsnapError(err) && typeof err.details.object === 'string'
              ? err.details.object
              : objectKey(chunk.id)
          problem(object, err, [...(users.get(chunk.id) ?? [])].sort())
        }
        dataChunksRead++
        options.onProgress?.({ phase: 'data', done: dataChunksRead, total: chosen.length })
      }
    }
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, () => worker()))
  }
  return {
    snapshots: snapshots.length,
    objects: users.size,
    dataChunksRead,
    bytesRead,
    problems: dedupe(problems),
  }
}

function inSubset(id: string, subset: DataSubset): boolean {
  // Ids are uniformly distributed, so the first 32 bits pick a fair sample that is the same
  // every run: `1/4` … `4/4` together read everything exactly once.
  const value = parseInt(id.slice(0, 8), 16)
  if ('percent' in subset) return value < (subset.percent / 100) * 0x100000000
  return value % subset.of === subset.part - 1
}

function checkRows(content: string, chunk: ChunkEntry, table: TableEntry): void {
  const lines = splitLines(content)
  const fail = (why: string): never => {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `chunk ${chunk.id} of ${tableName(table)} is corrupt: ${why}`,
      {
        details: { object: objectKey(chunk.id) },
      },
    )
  }
  if (lines.length !== chunk.rows) fail(`${lines.length} rows, the index says ${chunk.rows}`)
  const keyColumns = table.key?.map((c) => table.columns.indexOf(c)) ?? null
  const keyOf = (line: string): string | null => {
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch {
      return fail('a row is not JSON')
    }
    if (!Array.isArray(row) || row.length !== table.columns.length)
      fail("a row does not have the table's columns")
    return keyColumns === null ? null : rowKeyText(row as CanonicalRow, keyColumns)
  }
  const keys = lines.map(keyOf)
  if (keyColumns !== null && lines.length > 0) {
    if (keys[0] !== JSON.stringify(chunk.first) || keys.at(-1) !== JSON.stringify(chunk.last)) {
      fail('its first or last key is not the one the index records')
    }
    if (new Set(keys).size !== keys.length) fail('a key occurs twice')
  }
}

function dedupe(problems: VerifyProblem[]): VerifyProblem[] {
  const byObject = new Map<string, VerifyProblem>()
  for (const p of problems) {
    const seen = byObject.get(p.object)
    if (seen === undefined) byObject.set(p.object, p)
    else seen.snapshots = [...new Set([...seen.snapshots, ...p.snapshots])].sort()
  }
  return [...byObject.values()].sort((a, b) => byCodeUnit(a.object, b.object))
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
