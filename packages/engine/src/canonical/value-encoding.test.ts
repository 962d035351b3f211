import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lineKeyText, rawValues, rowKeyText, rowLine, type CanonicalRow } from './value-encoding.js'

const value = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"', '\\', '\\"', ',', ']', '[', 'a"b,c]d', '\\\\"'),
  fc.constant(null),
)

describe('rawValues', () => {
  it('splits any canonical row into the JSON texts of its values', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), (row: CanonicalRow) => {
        const line = rowLine(row)
        expect(rawValues(line)).toEqual(row.map((v) => JSON.stringify(v)))
      }),
    )
  })

  it('gives the same key text as parsing the row', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 3, maxLength: 6 }),
        fc.constantFrom<number[]>([0], [1], [0, 2], [2, 0]),
        (row: CanonicalRow, key) => {
          expect(lineKeyText(rowLine(row), key)).toBe(rowKeyText(row, key))
        },
      ),
    )
  })

  it('stops after the values asked for', () => {
    expect(rawValues('[42,"a,\\"b",null]', 2)).toEqual(['42', '"a,\\"b"'])
    expect(rawValues('[]')).toEqual([])
  })
})
