// Saved diffs: a diff written into the repository once, then listed, paged, filtered and searched
// without recomputing it (`dbsnap diff --save`, `dbsnap diffs`; the control plane serves pages
// from them). Layout (docs/diff-format.md, "Saved diffs"):
//
//   diffs/blocks/<id>   up to BLOCK_CHANGES row changes of one table, NDJSON, in diff order
//   diffs/<id>          the saved diff: header, summary, schema, tables, and the block list
//
// Blocks are written first and the diff object last: it is the commit point, as a manifest is.
// The repository stores and lists both, and knows which blocks a saved diff lists (for `prune`).

import { z } from 'zod'
import { splitLines } from '../canonical/value-encoding.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { savedDiffKey } from '../repository/layout.js'
import { isObjectId } from '../repository/object-format.js'
import type { Repository } from '../repository/repository.js'
import { outerShape } from '../util/outer-shape.js'
import { tryParseJson } from '../util/try-parse-json.js'
import {
  DIFF_FORMAT,
  DIFF_FORMAT_VERSION,
  type DiffSide,
  type DiffSummary,
  type RowChange,
  type RowChangeKind,
  type SchemaChange,
  type TableDiff,
} from './diff-format.js'
import type { SnapshotDiff } from './diff.js'

/** Row changes per stored block: a full scan of 10,000 changes reads 10 objects. */
export const BLOCK_CHANGES = 1000
/** Row changes per page a reader asks for, unless it says otherwise. */
export const DEFAULT_PAGE_SIZE = 100

/** One stored block: its object, its table and how many changes of each kind it holds. */
const diffBlockSchema = z.object({
  id: z.string().refine(isObjectId),
  table: z.string(),
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
  modified: z.number().int().nonnegative(),
})

export type DiffBlock = z.infer<typeof diffBlockSchema>

/** What `diffs/<id>` holds; its parts made by the diff are checked for their outer shape. */
const savedDiffSchema = z.object({
  format: z.literal(DIFF_FORMAT),
  version: z.literal(DIFF_FORMAT_VERSION),
  savedAt: z.string(),
  from: outerShape<DiffSide>(z.looseObject({ name: z.string() })),
  to: outerShape<DiffSide>(z.looseObject({ name: z.string() })),
  summary: outerShape<DiffSummary>(z.looseObject({ equal: z.boolean() })),
  schema: z.array(outerShape<SchemaChange>(z.looseObject({}))),
  tables: z.array(outerShape<TableDiff>(z.looseObject({ table: z.string() }))),
  blocks: z.array(diffBlockSchema),
})

export type SavedDiff = z.infer<typeof savedDiffSchema>

/**
 * Runs `diff` to its end, storing its row changes in blocks as they come, then the saved diff.
 * Memory holds one block. Returns the saved diff's id and content.
 */
export async function saveDiff(
  repository: Repository,
  diff: SnapshotDiff,
  options: { signal?: AbortSignal } = {},
): Promise<{ id: string; saved: SavedDiff }> {
  return repository.withLock('shared', 'diff', options.signal, () =>
    saveDiffLocked(repository, diff, options),
  )
}

async function saveDiffLocked(
  repository: Repository,
  diff: SnapshotDiff,
  options: { signal?: AbortSignal },
): Promise<{ id: string; saved: SavedDiff }> {
  const blocks: DiffBlock[] = []
  let pending: RowChange[] = []
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return
    const content = Buffer.from(pending.map((c) => `${JSON.stringify(c)}\n`).join(''), 'utf8')
    const id = await repository.putDiffBlock(content, options.signal)
    const count = (kind: RowChangeKind): number => pending.filter((c) => c.change === kind).length
    blocks.push({
      id,
      table: pending[0]!.table,
      added: count('added'),
      removed: count('removed'),
      modified: count('modified'),
    })
    pending = []
  }
  for await (const change of diff.rowChanges()) {
    throwIfAborted(options.signal)
    if (
      pending.length >= BLOCK_CHANGES ||
      (pending.length > 0 && pending[0]!.table !== change.table)
    ) {
      await flush()
    }
    pending.push(change)
  }
  await flush()
  const saved: SavedDiff = {
    format: DIFF_FORMAT,
    version: DIFF_FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    from: diff.from,
    to: diff.to,
    summary: diff.summary(),
    schema: diff.schema,
    tables: diff.tables,
    blocks,
  }
  const content = Buffer.from(JSON.stringify(saved), 'utf8')
  const id = await repository.putSavedDiff(content, options.signal)
  return { id, saved }
}

/** Reads and checks a saved diff; an id prefix of 4+ hex digits is enough when unique. */
export async function readSavedDiff(
  repository: Repository,
  idOrPrefix: string,
  signal?: AbortSignal,
): Promise<{ id: string; saved: SavedDiff }> {
  const id = await resolveDiffId(repository, idOrPrefix, signal)
  const content = await repository.readSavedDiff(id, signal)
  const parsed = savedDiffSchema.safeParse(tryParseJson(content.toString('utf8')))
  if (!parsed.success) {
    throw new DbsnapError('DATA_CORRUPT', `saved diff ${id} is corrupt: malformed`, {
      details: { object: savedDiffKey(id) },
    })
  }
  return { id, saved: parsed.data }
}

async function resolveDiffId(
  repository: Repository,
  text: string,
  signal?: AbortSignal,
): Promise<string> {
  const prefix = text.trim().toLowerCase()
  if (!/^[0-9a-f]{4,64}$/.test(prefix)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a saved diff id or an id prefix of at least 4 hex digits, got "${text}"`,
    )
  }
  const matches = (await repository.listSavedDiffIds(signal)).filter((id) => id.startsWith(prefix))
  if (matches.length === 1) return matches[0]!
  const message =
    matches.length === 0
      ? `no saved diff ${text} in the repository`
      : `${matches.length} saved diffs start with ${text}: give more digits`
  throw new DbsnapError('DIFF_NOT_FOUND', message, { details: { diff: text } })
}

export interface DiffPageQuery {
  /** 1-based page number. */
  page?: number
  pageSize?: number
  /** Only changes of this table (`schema.table`). */
  table?: string
  /** Only changes of this kind. */
  change?: RowChangeKind
  /**
   * Only changes whose key or values contain this text (case-insensitive), searched in their
   * JSON: a key `42`, a value `alice@example.com`, a column name.
   */
  search?: string
  signal?: AbortSignal
}

export interface DiffPage {
  page: number
  pageSize: number
  /** Changes matching the filters, all pages; null when a search stopped before the end. */
  total: number | null
  changes: RowChange[]
}

/**
 * One page of a saved diff's row changes, filtered. Table and kind filters are answered from
 * the block list, reading only the blocks the page falls in; a search reads blocks in order
 * until the page is full.
 */
export async function queryDiffPage(
  repository: Repository,
  saved: SavedDiff,
  query: DiffPageQuery = {},
): Promise<DiffPage> {
  const page = query.page ?? 1
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1) {
    throw new DbsnapError('INVALID_ARGUMENT', 'page and page size must be integers from 1')
  }
  const blocks = saved.blocks.filter((b) => query.table === undefined || b.table === query.table)
  const inBlock = (b: DiffBlock): number =>
    query.change === undefined ? b.added + b.removed + b.modified : b[query.change]
  const needle = query.search?.toLowerCase()
  // Filters run on the stored lines: only the changes that make the page are parsed.
  const kind = query.change === undefined ? undefined : `"change":"${query.change}"`
  const skip = (page - 1) * pageSize
  const changes: RowChange[] = []
  let seen = 0
  for (const block of blocks) {
    if (changes.length >= pageSize) break
    const count = inBlock(block)
    // Without a search, a block's count says whether the page reaches into it.
    if (needle === undefined && seen + count <= skip) {
      seen += count
      continue
    }
    const text = await readBlock(repository, block.id, query.signal)
    for (const line of matchingLines(text, needle, kind)) {
      if (seen++ >= skip && changes.length < pageSize) changes.push(JSON.parse(line) as RowChange)
    }
  }
  const total = needle === undefined ? blocks.reduce((n, b) => n + inBlock(b), 0) : null
  return { page, pageSize, total, changes }
}

/**
 * The lines of a block that contain `needle` (in lower case) and `kind`. A search lowercases the
 * block once and jumps from match to match, so lines without one cost nothing.
 */
function matchingLines(text: string, needle?: string, kind?: string): string[] {
  const lines = splitLines(text)
  const ofKind = (line: string): boolean => kind === undefined || line.includes(kind)
  if (needle === undefined) return lines.filter(ofKind)
  // Lowercasing may change lengths, never newlines: matches are placed by counting those.
  const lower = text.toLowerCase()
  const out: string[] = []
  let line = 0
  let lineStart = 0
  for (let at = lower.indexOf(needle); at >= 0;) {
    let end = lower.indexOf('\n', lineStart)
    while (end >= 0 && end < at) {
      line++
      lineStart = end + 1
      end = lower.indexOf('\n', lineStart)
    }
    const found = lines[line]
    if (found !== undefined && ofKind(found)) out.push(found)
    if (end < 0) break
    line++
    lineStart = end + 1
    at = lower.indexOf(needle, lineStart)
  }
  return out
}

/** A block's NDJSON: one row change per line, as `JSON.stringify` wrote it. */
async function readBlock(
  repository: Repository,
  id: string,
  signal?: AbortSignal,
): Promise<string> {
  return (await repository.readDiffBlock(id, signal)).toString('utf8')
}
