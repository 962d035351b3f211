// How diffs read on a terminal, in Markdown and as NDJSON: shared by `dbsnap diff` and `diffs`.

import type {
  DiffSummary,
  Engine,
  RowChange,
  SchemaChange,
  SnapshotDiff,
  TableDiff,
} from '@dbsnap/engine'
import { plural, printable, style } from './format.js'

const SIGNS: Record<string, string> = {
  added: '+',
  removed: '-',
  modified: '~',
  changed: '~',
  renamed: '>',
}

export function colorize(change: string, text: string): string {
  if (change === 'added') return style('green', text)
  if (change === 'removed') return style('red', text)
  return style('yellow', text)
}

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

export function tableLine(table: TableDiff): string {
  const counts = `+${table.added} -${table.removed} ~${table.modified}`
  const cost = `${plural(table.chunksSkipped, 'chunk')} skipped unread, ${table.chunksRead} read`
  const name = printable(table.table)
  if (table.status === 'unchanged') return `${name}: ${style('dim', 'unchanged')} (${cost})`
  return `${name}: ${table.status}, rows ${counts} (${cost})`
}

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

/** What a diff document starts with: its format and the two sides compared. */
export function header(
  diff: SnapshotDiff,
): Pick<SnapshotDiff, 'format' | 'version' | 'from' | 'to'> {
  return { format: diff.format, version: diff.version, from: diff.from, to: diff.to }
}

/**
 * The diff as NDJSON on `out`, one JSON object per line: header, schema changes, row changes,
 * tables, summary. Each line waits until `out` takes more (`writeLine`), so rows are read from the
 * diff only as fast as the reader reads them: a large diff piped into a slow reader is not held
 * in memory.
 */
export async function writeNdjson(
  diff: SnapshotDiff,
  out: NodeJS.WritableStream,
): Promise<DiffSummary> {
  const line = (type: string, value: object): Promise<void> =>
    writeLine(out, JSON.stringify({ type, ...value }))
  await line('header', header(diff))
  for (const change of diff.schema) await line('schema', change)
  for await (const change of diff.rowChanges()) await line('row', change)
  for (const table of diff.tables) await line('table', table)
  const summary = diff.summary()
  await line('summary', summary)
  return summary
}

/**
 * Writes `text` and a newline to `out`; when that fills its buffer, resolves only once `out`
 * drains, or closes (a reader that went away: the command stops on that itself).
 */
export async function writeLine(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (out.write(`${text}\n`)) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done)
      out.off('close', done)
      resolve()
    }
    out.once('drain', done)
    out.once('close', done)
  })
}
