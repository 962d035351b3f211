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

/** Shared with the engine's readable log and the diff's Markdown, which print the same text. */
export { formatCount, plural, printable } from '@dbsnap/engine'

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
