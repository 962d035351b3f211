import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CanonicalRow } from '../canonical/value-encoding.js'
import { decodeColumnar, rowsToColumnar } from './columnar.js'

const content = (rows: CanonicalRow[]): Buffer =>
  Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''), 'utf8')

describe('columnar layout', () => {
  it.each<[string, CanonicalRow[]]>([
    [
      'plain values',
      [
        [1, 'a', true, null],
        [2, 'b', false, 1.5],
      ],
    ],
    ['strings that look like syntax', [['a,b', '[x]', '"q"', 'back\\slash\\', '\\"', 'new\nline']]],
    [
      'unicode',
      [
        ['日本', '😀', 'é'],
        ['\u0000', '\u2028', 'z'],
      ],
    ],
    [
      // Past the bytes scanned in a loop, the search is native: escapes on both sides of it.
      'long strings with escapes',
      [
        ['0123456789abcdef\\"quoted\\" and \\\\', `${'x'.repeat(15)}\\`, '"'.repeat(40)],
        [`${'\\'.repeat(17)}"`, `${'y'.repeat(16)}"`, `${'z'.repeat(300)}\\"end`],
      ],
    ],
    [
      // A quote past the loop's bytes that is escaped: the rest of the string is stepped through.
      'JSON text in a string',
      [
        [JSON.stringify({ user: { id: 1, name: 'x'.repeat(20) }, tags: ['a', 'b\\"c'] }), 1],
        [`${'w'.repeat(16)}"${'\\'.repeat(3)}"\\`, 2],
        [`${'v'.repeat(17)}\\"`, 3],
      ],
    ],
    ['one column', [[1], [2], [3]]],
    ['no columns', [[], []]],
  ])('round-trips %s', (_name, rows) => {
    const bytes = content(rows)
    const columns = rows[0]!.length
    const payload = rowsToColumnar(bytes, rows.length, columns)
    expect(decodeColumnar(payload, 'x').equals(bytes)).toBe(true)
  })

  it('stores each column contiguously', () => {
    const payload = rowsToColumnar(
      content([
        [1, 'a'],
        [2, 'b'],
      ]),
      2,
      2,
    )
    expect(payload.subarray(16).toString()).toBe('1\n2\n"a"\n"b"\n')
  })

  it('round-trips any rows of canonical values', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      // Long strings dense with quotes and backslashes, as JSON documents in text columns are.
      fc.string({ unit: fc.constantFrom('"', '\\', 'a', ',', ']'), minLength: 10, maxLength: 60 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.boolean(),
      fc.constant(null),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 20 }),
        (width, height) => {
          const rows = fc.sample(fc.array(value, { minLength: width, maxLength: width }), height)
          const bytes = content(rows)
          expect(decodeColumnar(rowsToColumnar(bytes, rows.length, width), 'x').equals(bytes)).toBe(
            true,
          )
        },
      ),
      { numRuns: 200 },
    )
  })

  it.each([
    ['a column cut short', (p: Buffer) => p.subarray(0, p.length - 1)],
    ['a column without its last newline', (p: Buffer) => (p.writeUInt8(0x20, p.length - 1), p)],
    ['a wrong row count', (p: Buffer) => (p.writeUInt32LE(3, 0), p)],
    ['a column length past the end', (p: Buffer) => (p.writeUInt32LE(999, 8), p)],
    ['fewer rows than values', (p: Buffer) => (p.writeUInt32LE(1, 0), p)],
    [
      'a row count no payload can hold',
      (p: Buffer) => (p.writeUInt32LE(0xffffffff, 0), p.writeUInt32LE(0, 4), p.subarray(0, 8)),
    ],
  ])('refuses %s', (_name, damage) => {
    const payload = damage(
      rowsToColumnar(
        content([
          [1, 'a'],
          [2, 'b'],
        ]),
        2,
        2,
      ),
    )
    expect(() => decodeColumnar(payload, 'chunk c')).toThrow(
      expect.objectContaining({ code: 'DATA_CORRUPT' }),
    )
  })
})
