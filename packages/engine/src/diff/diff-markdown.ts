// A diff as Markdown for pull requests, web views and alerts (`dbsnap diff --format markdown`, the
// control plane's export), and the one-line forms of its changes the CLI's text output shares.

import { plural } from '../util/count-text.js'
import { printable } from '../util/printable.js'
import type { Engine } from '../schema/schema.js'
import type { DiffSide, DiffSummary, RowChange, SchemaChange, TableDiff } from './diff-format.js'

const SIGNS: Record<string, string> = {
  added: '+',
  removed: '-',
  modified: '~',
  changed: '~',
  renamed: '>',
}

/** A schema change as a line: its sign, kind and object. */
export function schemaLine(change: SchemaChange): string {
  const what = change.change === 'renamed' ? `${change.from} → ${change.object}` : change.object
  return printable(
    `${SIGNS[change.change]} ${change.kind} ${what}${change.change === 'changed' ? ' (definition changed)' : ''}`,
  )
}

/**
 * One row change as a line. MongoDB keys and documents are Extended JSON texts: shown as they
 * are (`{"$oid":"…"}`), not quoted as JSON strings again. Printable: JSON leaves C1 controls,
 * separators and bidi characters raw.
 */
export function rowLine(change: RowChange, engine?: Engine): string {
  return printable(rowText(change, engine))
}

function rowText(change: RowChange, engine?: Engine): string {
  const documents = engine === 'mongodb'
  const shown = (value: unknown): string =>
    documents && typeof value === 'string' ? value : JSON.stringify(value)
  const key =
    change.key === null ? '' : `${shown(change.key.length === 1 ? change.key[0] : change.key)} `
  if (change.change !== 'modified') {
    const row = change.change === 'added' ? change.new : change.old
    // A collection's row is [_id, document]; the document holds the _id already.
    return `${SIGNS[change.change]} ${key}${documents && row?.length === 2 ? shown(row[1]) : JSON.stringify(row)}`
  }
  const fields = (change.fields ?? []).map((field) =>
    field.patch === undefined
      ? `${field.column}: ${shown(field.old)} → ${shown(field.new)}`
      : `${field.column}: ${field.patch.map((op) => `${op.op} ${op.path}${op.value === undefined ? '' : ` ${JSON.stringify(op.value)}`}`).join(', ')}`,
  )
  return `~ ${key}${fields.join('; ')}`
}

/** The summary as a phrase: `1 schema change, 1 table with changed data, rows +1 -1 ~1`. */
export function summaryLine(summary: DiffSummary): string {
  if (summary.equal) return 'no differences'
  const { tables, rows } = summary
  const changedTables = tables.changed + tables.added + tables.removed
  const parts = [
    summary.schemaChanges > 0 ? plural(summary.schemaChanges, 'schema change') : '',
    changedTables > 0 ? `${plural(changedTables, 'table')} with changed data` : '',
    rows.added + rows.removed + rows.modified > 0
      ? `rows +${rows.added} -${rows.removed} ~${rows.modified}`
      : '',
  ]
  return parts.filter((part) => part !== '').join(', ')
}

/** One side of a diff, printable: a snapshot (name, id, time) or the live database. */
export function sideLine(side: DiffSide): string {
  return printable(
    side.live !== undefined
      ? `live ${side.live} (${side.takenAt})`
      : `${side.name} ${side.snapshot?.slice(0, 12) ?? ''} (${side.takenAt})`,
  )
}

/**
 * Characters that Markdown (CommonMark, GitHub) reads as markup, HTML, entities, math or
 * mentions anywhere in a line; `-`, `+`, `.` and `=` act only at the start of a line, where no
 * escaped value is placed.
 */
const MARKDOWN_SPECIAL = /[\\`*_[\]<>|&~#!$@]/g

/**
 * Text as Markdown that renders as exactly that text: unprintable characters shown as escapes
 * (see `printable`), then every character Markdown acts on backslash-escaped. Safe in headings,
 * paragraphs and table cells (`|` included).
 */
export function markdownText(text: string): string {
  return printable(text).replace(MARKDOWN_SPECIAL, '\\$&')
}

/**
 * A fenced code block holding `lines` verbatim. The fence is one backtick longer than the longest
 * run of backticks inside (at least three), so no line can close it (CommonMark 4.5).
 */
export function markdownCodeBlock(lines: string[], info: string): string {
  const longest = lines.reduce(
    (max, line) => (line.match(/`+/g) ?? []).reduce((m, run) => Math.max(m, run.length), max),
    0,
  )
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return [`${fence}${info}`, ...lines.map(printable), fence].join('\n')
}

/**
 * A table of the Markdown report: a diff's table entry; without `chunksRead` (a diff whose cost
 * was not kept, as the control plane's), the report leaves out the "chunks read" column.
 */
export type MarkdownTable = Pick<TableDiff, 'table' | 'status' | 'added' | 'removed' | 'modified'> &
  Partial<Pick<TableDiff, 'chunksRead' | 'chunksSkipped'>>

/** What the Markdown report reads of a diff: a SnapshotDiff has it all. */
export interface MarkdownDiff {
  from: DiffSide
  to: DiffSide
  schema: SchemaChange[]
  /** The tables and their counts: final once `rowChanges()` ended. */
  tables: MarkdownTable[]
  rowChanges(): AsyncIterable<RowChange> | Iterable<RowChange>
  summary(): DiffSummary
}

export interface MarkdownOptions {
  /** Row changes shown per table at most (then `… N more`); all when absent. */
  limit?: number
  /**
   * Row changes shown in all at most: the report stops reading rows there and says how many
   * changes of the tables it did not reach are left out. All when absent.
   */
  maxChanges?: number
  /** Only the schema: no data section, no row read. */
  schemaOnly?: boolean
  /** Lines (Markdown text, escaped by the caller) put after the snapshots line. */
  notes?: string[]
}

/**
 * The diff as Markdown, block by block (each block a paragraph, heading or fenced block, to be
 * joined by newlines): title, the two sides, the schema changes, each table's row changes in a
 * fenced `diff` block (held until the table ends, to choose a fence no value can close), the
 * tables with their counts and the summary. Every name and value is escaped wherever it is
 * Markdown text (docs/diff-format.md).
 *
 * @example
 * for await (const block of diffMarkdown(diff, { limit: 20 })) console.log(block)
 */
export async function* diffMarkdown(
  diff: MarkdownDiff,
  options: MarkdownOptions = {},
): AsyncGenerator<string> {
  const limit = options.limit ?? Infinity
  const maxChanges = options.maxChanges ?? Infinity
  const engine = diff.to.engine ?? diff.from.engine
  yield `# Diff of ${markdownText(diff.to.name)}\n`
  yield `Snapshots: ${markdownText(sideLine(diff.from))} → ${markdownText(sideLine(diff.to))}\n`
  for (const note of options.notes ?? []) yield `${note}\n`
  if (diff.schema.length > 0) {
    yield `## Schema (${diff.schema.length})\n`
    yield `${markdownCodeBlock(diff.schema.map(schemaLine), 'diff')}\n`
  }
  const summary = (): string => `**${markdownText(summaryLine(diff.summary()))}**`
  if (options.schemaOnly === true) {
    yield summary()
    return
  }
  yield '## Data\n'
  const reached = new Set<string>()
  let current: string | null = null
  let lines: string[] = []
  let shown = 0
  const finishTable = (name: string | null): string | undefined => {
    if (name === null) return undefined
    const more = unshown(diff.tables, name, lines.length)
    if (more > 0) lines.push(`… ${more} more`)
    return `### ${markdownText(name)}\n\n${markdownCodeBlock(lines, 'diff')}\n`
  }
  for await (const change of diff.rowChanges()) {
    if (change.table !== current) {
      if (shown >= maxChanges) break
      const block = finishTable(current)
      if (block !== undefined) yield block
      current = change.table
      reached.add(current)
      lines = []
    }
    if (lines.length < limit) {
      // At the cap, the rest is counted from the tables, not read.
      if (shown >= maxChanges) break
      lines.push(rowLine(change, engine))
      shown++
    }
  }
  const block = finishTable(current)
  if (block !== undefined) yield block
  if (current === null) yield 'No row changed.\n'
  const left = diff.tables
    .filter((t) => !reached.has(t.table))
    .reduce((n, t) => n + t.added + t.removed + t.modified, 0)
  if (left > 0) yield `${markdownText(`… ${plural(left, 'more change')} not shown`)}\n`
  const cost = diff.tables.every((t) => t.chunksRead !== undefined)
  const cells = (t: MarkdownTable): string[] => [
    markdownText(t.table),
    t.status,
    String(t.added),
    String(t.removed),
    String(t.modified),
    ...(cost ? [`${t.chunksRead}/${t.chunksRead! + (t.chunksSkipped ?? 0)}`] : []),
  ]
  yield [
    '## Tables\n',
    `| table | status | added | removed | modified |${cost ? ' chunks read |' : ''}`,
    `| --- | --- | ---: | ---: | ---: |${cost ? ' ---: |' : ''}`,
    ...diff.tables.map((t) => `| ${cells(t).join(' | ')} |`),
    '',
  ].join('\n')
  yield summary()
}

/** How many row changes of a table were left out of a report that showed `shown` of them. */
function unshown(tables: MarkdownTable[], name: string, shown: number): number {
  const table = tables.find((t) => t.table === name)
  return table === undefined ? 0 : table.added + table.removed + table.modified - shown
}
