// A succeeded diff exported as a file: NDJSON (every change that passes the filters, one a line,
// read from the database page by page, so memory holds one page whatever the diff's size) or
// Markdown (the engine's report, the same `dbsnap diff --format markdown` prints, its rows capped).

import {
  diffMarkdown,
  markdownText,
  type DiffSummary,
  type Engine,
  type MarkdownTable,
  type RowChange,
  type SchemaChange,
} from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'
import {
  countChanges,
  eachChange,
  type ChangeFilter,
  type DiffTableCounts,
  type DiffWithJob,
} from './diffs.js'

/** Changes a Markdown export shows at most; the rest is counted (the NDJSON export has them). */
export const MARKDOWN_MAX_CHANGES = 1000

/** Text is handed to the response in pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024

export type ExportFilter = Omit<ChangeFilter, 'cursor' | 'limit'>

/** `DIFF_NOT_READY` unless the diff succeeded: only a finished diff is exported. */
export function checkExportable(diff: DiffWithJob): void {
  if (diff.state !== 'succeeded') {
    throw new ControlPlaneError(
      'DIFF_NOT_READY',
      `the diff has not succeeded (${diff.state}): there is nothing final to export`,
      { details: { id: diff.id, state: diff.state } },
    )
  }
}

/** The diff's changes that pass `filter` as NDJSON: one change (as `/changes` lists it) a line. */
export function ndjsonExport(
  db: Kysely<Database>,
  diff: DiffWithJob,
  filter: ExportFilter,
): AsyncGenerator<string> {
  checkExportable(diff)
  return pieces(lines(eachChange(db, diff.id, filter)))
}

async function* lines(changes: AsyncIterable<object>): AsyncGenerator<string> {
  for await (const change of changes) yield `${JSON.stringify(change)}\n`
}

/**
 * The diff as the engine's Markdown report: its sides, any filter, its schema changes, the first
 * MARKDOWN_MAX_CHANGES changes that pass `filter`, per-table counts of those, and its summary.
 */
export async function markdownExport(
  db: Kysely<Database>,
  diff: DiffWithJob,
  filter: ExportFilter,
): Promise<AsyncGenerator<string>> {
  checkExportable(diff)
  const [counts, snapshot, connection] = await Promise.all([
    countChanges(db, diff.id, filter),
    db
      .selectFrom('snapshots')
      .select('engine')
      .where('projectId', '=', diff.projectId)
      .where('id', '=', diff.fromSnapshotId)
      .executeTakeFirst(),
    diff.toSnapshotId !== null || diff.connectionId === null
      ? undefined
      : db
          .selectFrom('connections')
          .select('name')
          .where('id', '=', diff.connectionId)
          .executeTakeFirst(),
  ])
  const engine = (snapshot?.engine ?? undefined) as Engine | undefined
  const options = JSON.parse(diff.options) as { schemaOnly?: boolean }
  const stored = JSON.parse(diff.tableCounts ?? '[]') as Partial<DiffTableCounts>[]
  const columns = new Map(stored.map((t) => [t.table, t.columns]))
  const tables: MarkdownTable[] = counts.tables.map((t) => {
    const c = columns.get(t.table)
    return { ...t, status: c?.old === null ? 'added' : c?.new === null ? 'removed' : 'changed' }
  })
  const all = stored.reduce((n, t) => n + (t.added ?? 0) + (t.removed ?? 0) + (t.modified ?? 0), 0)
  const filtered = filter.table !== undefined || filter.type !== undefined || filter.q !== undefined
  const report = diffMarkdown(
    {
      from: {
        snapshot: diff.fromSnapshotId,
        name: diff.fromName,
        engine,
        takenAt: diff.fromTakenAt,
      },
      to:
        diff.toSnapshotId === null
          ? {
              snapshot: null,
              name: diff.fromName,
              engine,
              takenAt: diff.toTakenAt ?? '',
              live: connection === undefined ? 'database' : `connection ${connection.name}`,
            }
          : { snapshot: diff.toSnapshotId, name: diff.toName!, engine, takenAt: diff.toTakenAt! },
      schema: JSON.parse(diff.schemaChanges ?? '[]') as SchemaChange[],
      tables,
      // Stored as the engine produced them (the upload's schema only checks their outline).
      rowChanges: () => eachChange(db, diff.id, filter) as AsyncIterable<RowChange>,
      summary: () => JSON.parse(diff.summary!) as DiffSummary,
    },
    {
      maxChanges: MARKDOWN_MAX_CHANGES,
      schemaOnly: options.schemaOnly === true,
      notes: filtered ? [filterNote(filter, counts.total, all)] : [],
    },
  )
  return pieces(blocks(report))
}

/** The report's blocks, one a line, as `dbsnap diff` prints them. */
async function* blocks(report: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const block of report) yield `${block}\n`
}

/** What the export was filtered by, as Markdown (every value escaped). */
function filterNote(filter: ExportFilter, matched: number, all: number): string {
  const parts = [
    filter.table === undefined ? '' : `table ${markdownText(filter.table)}`,
    filter.type === undefined ? '' : `type ${filter.type}`,
    filter.q === undefined ? '' : `search “${markdownText(filter.q)}”`,
  ]
  const by = parts.filter((p) => p !== '').join(', ')
  return `Filtered by ${by}: ${matched} of ${all} changes.`
}

/** Joins small strings into pieces of about PIECE_CHARS: one write per piece, not per line. */
async function* pieces(parts: AsyncIterable<string>): AsyncGenerator<string> {
  let piece = ''
  for await (const part of parts) {
    piece += part
    if (piece.length >= PIECE_CHARS) {
      yield piece
      piece = ''
    }
  }
  if (piece !== '') yield piece
}
