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

/**
 * `1234567` -> `1,234,567`: what `toLocaleString('en-US')` prints for a count, without loading
 * ICU's number formatting (~13 ms on the first call of every command).
 */
export function formatCount(count: number): string {
  if (!Number.isSafeInteger(count)) return String(count)
  const digits = String(Math.abs(count))
  const head = digits.length % 3 || 3
  const groups = [digits.slice(0, head)]
  for (let i = head; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3))
  return `${count < 0 ? '-' : ''}${groups.join(',')}`
}

/** `(3, 'table')` -> `3 tables`. */
export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`
}

/** Shared with the engine's readable log, which prints the same kind of text. */
export { printable } from '@dbsnap/engine'

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
