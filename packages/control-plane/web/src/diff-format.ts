// How the diff viewer writes values, keys, signs and the `dbsnap diff` command of a diff.

import type { ChangeType, Diff } from './diff-queries.ts'

/** A change type's sign and colour, as the CLI's text output signs them (`+`, `-`, `~`). */
export const CHANGE_STYLE: Record<ChangeType, { sign: string; color: string; label: string }> = {
  added: { sign: '+', color: 'green', label: 'added' },
  removed: { sign: '−', color: 'red', label: 'removed' },
  modified: { sign: '~', color: 'orange', label: 'modified' },
}

/**
 * A schema change's sign (`>` for a rename, as in the CLI's output) and its badge's colour, dark
 * enough for its text (green 9 is not: the green of the change rows' signs).
 */
export const SCHEMA_STYLE: Record<string, { sign: string; color: string }> = {
  added: { sign: '+', color: '#1b5e20' },
  removed: { sign: '−', color: 'red.9' },
  changed: { sign: '~', color: 'yellow.4' },
  renamed: { sign: '>', color: 'indigo.9' },
}

/**
 * A canonical value as text: strings in JSON quotes, like the CLI shows them, but a document or
 * a JSON value (text that opens with `{` or `[`) as it is, its quotes not escaped.
 */
export function formatValue(value: unknown, max = 120): string {
  const text =
    value === undefined
      ? ''
      : typeof value === 'string' && /^[[{]/.test(value)
        ? value
        : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A row's key: `id=7` with the key's column names, else the values alone. */
export function formatKey(key: readonly unknown[] | null, names: readonly string[] = []): string {
  if (key === null) return '(no key)'
  return key
    .map((value, i) => {
      const text = typeof value === 'string' ? value : formatValue(value)
      return names[i] === undefined ? text : `${names[i]}=${text}`
    })
    .join(', ')
}

/** The name of column `index`, or "column N" when the diff did not name its columns. */
export function columnName(names: readonly string[] | null | undefined, index: number): string {
  return names?.[index] ?? `column ${index + 1}`
}

/** An argument as a POSIX shell reads it back: quoted when it has anything but safe characters. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./~-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}

/**
 * The CLI command that computes the same diff from the repository:
 * `dbsnap diff <from> <to | --live URL> [--tables …] [--exclude …] [--schema-only | --data-only]`.
 */
export function diffCommand(diff: Diff, liveUrl: string | null): string {
  const args = ['dbsnap', 'diff', diff.from.snapshotId.slice(0, 12)]
  if ('snapshotId' in diff.to) args.push(diff.to.snapshotId.slice(0, 12))
  else args.push('--live', liveUrl ?? '<connection URL>')
  const { tables, exclude, schemaOnly, dataOnly } = diff.options
  if (tables !== undefined) args.push('--tables', tables.join(','))
  if (exclude !== undefined) args.push('--exclude', exclude.join(','))
  if (schemaOnly === true) args.push('--schema-only')
  if (dataOnly === true) args.push('--data-only')
  return args.map((arg) => (arg === '<connection URL>' ? arg : shellQuote(arg))).join(' ')
}
