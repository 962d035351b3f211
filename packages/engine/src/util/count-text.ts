// Counts as people read them, in every human-readable output (the CLI's, the diff's Markdown).

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
