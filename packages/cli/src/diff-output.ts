// How diffs read on a terminal and as NDJSON (Markdown is the engine's): shared by `dbsnap diff`
// and `diffs`.

import type { DiffSummary, SnapshotDiff, TableDiff } from '@dbsnap/engine'
import { plural, printable, style } from './format.js'

/** The one-line forms and Markdown escaping are the engine's: the control plane's export shares them. */
export {
  markdownCodeBlock,
  markdownText,
  rowLine,
  schemaLine,
  sideLine,
  summaryLine,
} from '@dbsnap/engine'

export function colorize(change: string, text: string): string {
  if (change === 'added') return style('green', text)
  if (change === 'removed') return style('red', text)
  return style('yellow', text)
}

export function tableLine(table: TableDiff): string {
  const counts = `+${table.added} -${table.removed} ~${table.modified}`
  const cost = `${plural(table.chunksSkipped, 'chunk')} skipped unread, ${table.chunksRead} read`
  const name = printable(table.table)
  if (table.status === 'unchanged') return `${name}: ${style('dim', 'unchanged')} (${cost})`
  return `${name}: ${table.status}, rows ${counts} (${cost})`
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
