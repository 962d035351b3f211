// How one value is written in a canonical row (docs/snapshot-format.md, "Canonical rows"):
// the JSON shape per column encoding, shared by every engine's adapter.

/**
 * The canonical JSON shapes a column's values take:
 * - `boolean`: `true` / `false`.
 * - `integer`: a JSON number; always within ±(2^53 − 1) (int2, int4, oid…).
 * - `bigint`: a JSON number when within ±(2^53 − 1), else a decimal string (`"9007199254740993"`).
 * - `float`: a JSON number, except `"NaN"`, `"Infinity"`, `"-Infinity"` and `"-0"` as strings.
 * - `text`: a JSON string holding the engine's own exact text form of the value (numeric,
 *   dates, bytea hex, arrays, ranges, json…), produced under pinned session settings.
 * - `ejson`: a JSON string holding a BSON value as canonical MongoDB Extended JSON v2 (every
 *   number typed: `{"$numberInt":"1"}` vs `{"$numberDouble":"1.0"}`), field order kept, no
 *   spaces (docs/mongodb.md).
 * Null is JSON `null` for every encoding.
 */
export type ValueEncoding = 'boolean' | 'integer' | 'bigint' | 'float' | 'text' | 'ejson'

/** A value in a canonical row. */
export type CanonicalValue = boolean | number | string | null

/** A row: one canonical value per column, in the table's column order. */
export type CanonicalRow = CanonicalValue[]

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** The canonical form of a 64-bit integer given as decimal text. */
export function canonicalBigint(text: string): number | string {
  // Fast path: up to 15 digits is always safe.
  if (text.length <= 15) return Number(text)
  const big = BigInt(text)
  return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big.toString()
}

/** The canonical form of a float given as text (`NaN`, `Infinity`, `-0`, `1.5e+300`). */
export function canonicalFloat(text: string): number | string {
  const n = Number(text)
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (n === 0 && Object.is(n, -0)) return '-0'
  return n
}

/** The text a float's canonical value stands for, parseable back to the same IEEE value. */
export function floatText(value: number | string): string {
  return typeof value === 'string' ? value : String(value)
}

/** One canonical row as its line in a chunk (without the newline). */
export function rowLine(row: CanonicalRow): string {
  return JSON.stringify(row)
}

/** The key values of a row: the values of its key columns, in key order. */
export function rowKey(row: CanonicalRow, keyColumns: number[]): CanonicalValue[] {
  return keyColumns.map((i) => row[i] ?? null)
}

/** The canonical text of a row's key, what chunk boundaries hash and rows are matched on. */
export function rowKeyText(row: CanonicalRow, keyColumns: number[]): string {
  return JSON.stringify(rowKey(row, keyColumns))
}

/** The lines of newline-terminated text (chunk content, indexes, delta scripts). */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.slice(0, -1).split('\n')
}

/**
 * The JSON texts of the first `count` values of a canonical row line, without parsing it: a
 * row's values are primitives, so they end at the next comma or bracket outside a string.
 * Canonical JSON has one text per value, so equal texts are equal values.
 *
 * @example rawValues('[42,"a,\\"b",null]', 2) // ['42', '"a,\\"b"']
 */
export function rawValues(line: string, count = Infinity): string[] {
  const out: string[] = []
  let at = 1
  while (out.length < count && at < line.length) {
    const start = at
    if (line.charCodeAt(at) === 0x22) {
      // Find the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const quote = line.indexOf('"', at + 1)
        if (quote < 0) throw new Error(`not a canonical row: ${line.slice(0, 80)}`)
        let slashes = 0
        while (line.charCodeAt(quote - 1 - slashes) === 0x5c) slashes++
        at = quote
        if (slashes % 2 === 0) break
      }
      at++
    } else {
      while (at < line.length && line[at] !== ',' && line[at] !== ']') at++
    }
    if (at === start) break // `[]`: a row without values
    out.push(line.slice(start, at))
    at++ // the comma or the closing bracket
  }
  return out
}

/** The key text (as `rowKeyText` gives it) of a canonical row line, read without parsing it. */
export function lineKeyText(line: string, keyColumns: number[]): string {
  const values = rawValues(line, Math.max(...keyColumns) + 1)
  return `[${keyColumns.map((i) => values[i] ?? 'null').join(',')}]`
}
