// PostgreSQL text <-> canonical values: decode(encode(x)) == x for every encoding, table-driven
// for the edges and as properties over the whole range of each type.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CanonicalValue, ValueEncoding } from '../../canonical/value-encoding.js'
import { canonicalToPgText, pgTextToCanonical, pgValueEncoding } from './postgres-values.js'

const roundTrip = (encoding: ValueEncoding, text: string): string | null =>
  canonicalToPgText(encoding, pgTextToCanonical(encoding, text))

describe('pgTextToCanonical / canonicalToPgText', () => {
  it.each<[ValueEncoding, string, CanonicalValue]>([
    ['boolean', 't', true],
    ['boolean', 'f', false],
    ['integer', '0', 0],
    ['integer', '-2147483648', -2147483648],
    ['integer', '4294967295', 4294967295],
    ['bigint', '9007199254740991', 9007199254740991],
    ['bigint', '-9007199254740991', -9007199254740991],
    ['bigint', '9007199254740992', '9007199254740992'],
    ['bigint', '9007199254740993', '9007199254740993'],
    ['bigint', '-9223372036854775808', '-9223372036854775808'],
    ['bigint', '9223372036854775807', '9223372036854775807'],
    ['float', '0.1', 0.1],
    ['float', '1e+308', 1e308],
    ['float', '5e-324', 5e-324],
    ['float', '-0', '-0'],
    ['float', 'NaN', 'NaN'],
    ['float', 'Infinity', 'Infinity'],
    ['float', '-Infinity', '-Infinity'],
    ['text', '', ''],
    ['text', '\\x00ff', '\\x00ff'],
  ])('%s %j <-> %j', (encoding, text, canonical) => {
    expect(pgTextToCanonical(encoding, text)).toStrictEqual(canonical)
    // Every canonical value is plain JSON: NaN, the infinities and -0 would not survive it.
    expect(JSON.parse(JSON.stringify(canonical))).toStrictEqual(canonical)
    const back = canonicalToPgText(encoding, canonical)
    if (encoding === 'float') expect(Object.is(Number(back), Number(text))).toBe(true)
    else expect(back).toBe(text)
  })

  it('keeps NULL as null both ways', () => {
    for (const encoding of ['boolean', 'integer', 'bigint', 'float', 'text'] as const) {
      expect(pgTextToCanonical(encoding, null)).toBeNull()
      expect(canonicalToPgText(encoding, null)).toBeNull()
    }
  })

  it.each<[ValueEncoding, CanonicalValue]>([
    ['boolean', 1],
    ['integer', true],
    ['float', false],
    ['text', 1],
  ])('refuses a %s column holding %j', (encoding, value) => {
    expect(() => canonicalToPgText(encoding, value)).toThrow(
      expect.objectContaining({ code: 'DATA_CORRUPT' }),
    )
  })

  it.each<[string, ValueEncoding]>([
    ['bool', 'boolean'],
    ['int2', 'integer'],
    ['int4', 'integer'],
    ['oid', 'integer'],
    ['int8', 'bigint'],
    ['float4', 'float'],
    ['float8', 'float'],
    ['numeric', 'text'],
    ['_int4', 'text'],
    ['timestamptz', 'text'],
  ])('%s is encoded as %s', (typeName, encoding) => {
    expect(pgValueEncoding(typeName)).toBe(encoding)
  })
})

/** How PostgreSQL prints a float8 with extra_float_digits = 3: shortest exact, C-style exponent. */
function pgFloatText(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (Object.is(x, -0)) return '-0'
  // Shortest digits as JavaScript finds them, laid out as PostgreSQL does: plain when the decimal
  // exponent is in [-4, 15), else d.ddde±XX with at least two exponent digits.
  const [mantissa = '', exp = '0'] = x.toExponential().split('e')
  const e = Number(exp)
  if (e >= -4 && e < 15) return String(x)
  const sign = e < 0 ? '-' : '+'
  return `${mantissa}e${sign}${String(Math.abs(e)).padStart(2, '0')}`
}

describe('property: decode(encode(x)) == x', () => {
  it('booleans', () => {
    fc.assert(
      fc.property(fc.constantFrom('t', 'f'), (text) => {
        expect(roundTrip('boolean', text)).toBe(text)
      }),
    )
  })

  it('integers (int2, int4, oid)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (n) => {
        const text = String(n)
        expect(roundTrip('integer', text)).toBe(text)
        expect(typeof pgTextToCanonical('integer', text)).toBe('number')
      }),
    )
  })

  it('bigints, exact beyond 2^53', () => {
    const int8 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -(2n ** 53n) - 3n, max: -(2n ** 53n) + 3n }),
      fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }),
    )
    fc.assert(
      fc.property(int8, (n) => {
        const text = n.toString()
        const canonical = pgTextToCanonical('bigint', text)
        expect(roundTrip('bigint', text)).toBe(text)
        // A number only where a double holds it exactly; a decimal string beyond.
        const safe = n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= -BigInt(Number.MAX_SAFE_INTEGER)
        expect(typeof canonical).toBe(safe ? 'number' : 'string')
      }),
      { numRuns: 1000 },
    )
  })

  it('floats: the same IEEE value back, and plain JSON in between', () => {
    const float = fc.oneof(
      fc.double(),
      fc.float().map((f) => Math.fround(f)),
      fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e308, 2 ** 53 + 2),
    )
    fc.assert(
      fc.property(float, fc.boolean(), (x, pgStyle) => {
        const text = pgStyle ? pgFloatText(x) : String(x)
        const canonical = pgTextToCanonical('float', text)
        expect(JSON.parse(JSON.stringify(canonical))).toStrictEqual(canonical)
        const back = canonicalToPgText('float', canonical)
        // JavaScript and PostgreSQL lay exponents out differently (1e-05 / 0.00001): compare values.
        expect(Object.is(Number(back), Number(text))).toBe(true)
        if (typeof canonical === 'string') expect(back).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('text is kept as it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(roundTrip('text', text)).toBe(text)
      }),
    )
  })
})
