// Small text formatters shared by commands' human-readable output.

import { styleText } from 'node:util'

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`
}

/** `(3, 'table')` -> `3 tables`. */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`
}

/**
 * Characters a terminal or a renderer acts on instead of showing: C0 and C1 controls (ESC, CR,
 * BS, CSI \u009b…), line and paragraph separators, and bidirectional overrides and isolates.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b' }

/**
 * Text that came from a database, a snapshot or a user (names, values, server messages) made safe
 * to print: every control, separator or bidi character is shown as an escape (`\u001b`, `\r`,
 * `\u202e`), so the text cannot move the cursor, recolor, hide or reorder what a person reads.
 * The escapes are JSON's, so a printed JSON line stays valid JSON. Every human-readable output
 * passes such text through here.
 */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

type Style = Parameters<typeof styleText>[0]

/** Styles text for stdout; plain when stdout is not a color terminal or NO_COLOR is set. */
export function style(format: Style, text: string): string {
  return styleText(format, text, { stream: process.stdout })
}

/** Aligned `label  value` lines. */
export function keyValueLines(rows: [string, string][], indent = 2): string[] {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(
    ([label, value]) => `${' '.repeat(indent)}${style('dim', label.padEnd(width))}  ${value}`,
  )
}
