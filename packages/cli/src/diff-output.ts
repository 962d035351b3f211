// How diffs read on a terminal and in Markdown: shared by `dbsnap diff` and `dbsnap diffs`.

import type { DiffSummary, Engine, RowChange, SchemaChange, TableDiff } from '@dbsnap/engine'
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
