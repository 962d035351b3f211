import fc from 'fast-check'
import {
  BSON,
  BSONRegExp,
  Binary,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'mongodb'
import { describe, expect, it } from 'vitest'
import { BSON_BRACKETS, bsonBracket, compareBsonKeys } from './bson-order.js'

const ejson = (value: unknown): string => BSON.EJSON.stringify(value, { relaxed: false })
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0)

/** One value of each bracket, in MongoDB's documented sort order. */
const ONE_PER_BRACKET: unknown[] = [
  new MinKey(),
  null,
  new Int32(5),
  'a string',
  { a: new Int32(1) },
  [new Int32(1)],
  new Binary(Buffer.from('x'), 0),
  new ObjectId('000000000000000000000000'),
  false,
  new Date(0),
  new Timestamp({ t: 1, i: 1 }),
  new BSONRegExp('a', ''),
  new Code('f'),
  new Code('f', {}),
  new MaxKey(),
]

describe('compareBsonKeys', () => {
  it('orders type brackets as MongoDB does', () => {
    for (let i = 0; i < ONE_PER_BRACKET.length; i++) {
      for (let j = 0; j < ONE_PER_BRACKET.length; j++) {
        const order = compareBsonKeys(ejson(ONE_PER_BRACKET[i]), ejson(ONE_PER_BRACKET[j]))
        expect(sign(order), `${i} vs ${j}`).toBe(sign(i - j))
      }
    }
    expect(compareBsonKeys('{"$undefined":true}', 'null')).toBeLessThan(0)
    expect(compareBsonKeys('{"$minKey":1}', '{"$undefined":true}')).toBeLessThan(0)
    expect(bsonBracket('{"$symbol":"s"}')).toBe('string')
    expect(BSON_BRACKETS[0]).toBe('minKey')
    expect(BSON_BRACKETS.at(-1)).toBe('maxKey')
  })

  it.each<[string, unknown, unknown, -1 | 0 | 1]>([
    ['int vs double by value', new Int32(2), new Double(10.5), -1],
    ['int equals double', new Int32(1), new Double(1), 0],
    [
      'long vs double beyond 2^53',
      Long.fromString('9007199254740993'),
      new Double(9007199254740992),
      1,
    ],
    ['long max vs 2^63 double', Long.MAX_VALUE, new Double(2 ** 63), -1],
    ['decimal 0.1 vs double 0.1', Decimal128.fromString('0.1'), new Double(0.1), -1],
    ['decimal equals int', Decimal128.fromString('1.000'), new Int32(1), 0],
    ['NaN below every number', new Double(NaN), new Double(-Infinity), -1],
    ['NaN equals decimal NaN', new Double(NaN), Decimal128.fromString('NaN'), 0],
    ['-0 equals 0', new Double(-0), new Int32(0), 0],
    ['infinity above every long', new Double(Infinity), Long.MAX_VALUE, 1],
    ['strings bytewise (uppercase first)', 'Z', 'a', -1],
    ['strings bytewise (astral after U+FFFD)', '\u{1F600}', '\uFFFD', 1],
    ['prefix string first', 'ab', 'abc', -1],
    ['document: value type before field name', { b: new Int32(1) }, { a: 'z' }, -1],
    ['document: field name before value', { a: new Int32(9) }, { b: new Int32(1) }, -1],
    ['document: shorter first', { a: new Int32(1) }, { a: new Int32(1), b: new Int32(1) }, -1],
    [
      'binary: length first',
      new Binary(Buffer.from('zz'), 0),
      new Binary(Buffer.from('aaa'), 0),
      -1,
    ],
    [
      'binary: subtype second',
      new Binary(Buffer.from('b'), 0),
      new Binary(Buffer.from('a'), 5),
      -1,
    ],
    [
      'objectid bytes',
      new ObjectId('00000000000000000000000a'),
      new ObjectId('0000000000000000000000a0'),
      -1,
    ],
    ['dates before 1970', new Date(-1000), new Date(0), -1],
    [
      'timestamp: time then increment',
      new Timestamp({ t: 1, i: 9 }),
      new Timestamp({ t: 2, i: 0 }),
      -1,
    ],
    ['regex: pattern then flags', new BSONRegExp('a', 'i'), new BSONRegExp('a', 'im'), -1],
    ['arrays element-wise', [new Int32(1), new Int32(2)], [new Int32(1), 'a'], -1],
  ])('%s', (_name, a, b, expected) => {
    expect(sign(compareBsonKeys(ejson(a), ejson(b)))).toBe(expected)
    expect(sign(compareBsonKeys(ejson(b), ejson(a)))).toBe(-expected || 0)
  })

  it('keeps integer-like keys of documents in written order', () => {
    // JSON.parse would visit "1" before "b"; BSON compares the first fields: "b" vs "a".
    const a = '{"b":{"$numberInt":"1"},"1":{"$numberInt":"1"}}'
    const b = '{"a":{"$numberInt":"1"},"1":{"$numberInt":"1"}}'
    expect(compareBsonKeys(a, b)).toBeGreaterThan(0)
  })

  const number: fc.Arbitrary<{ value: unknown; exact: number | bigint }> = fc.oneof(
    fc
      .integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
      .map((n) => ({ value: new Int32(n), exact: n })),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .map((n) => ({ value: Long.fromBigInt(n), exact: n })),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((d) => ({ value: new Double(d), exact: d })),
  )

  it('orders numbers of any type by exact value', () => {
    fc.assert(
      fc.property(number, number, (a, b) => {
        // Exact comparison of a double and a bigint: JavaScript's relational operators are exact.
        const expected = a.exact < b.exact ? -1 : a.exact > b.exact ? 1 : 0
        expect(sign(compareBsonKeys(ejson(a.value), ejson(b.value)))).toBe(expected)
      }),
      { numRuns: 2000 },
    )
  })

  const key: fc.Arbitrary<unknown> = fc.oneof(
    number.map((n) => n.value),
    fc.string({ unit: 'binary', maxLength: 4 }),
    fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(b)),
    fc.integer({ min: -1e13, max: 1e13 }).map((ms) => new Date(ms)),
    fc.boolean(),
    fc.constant(null),
    fc
      .tuple(fc.uint8Array({ maxLength: 3 }), fc.constantFrom(0, 4, 5))
      .map(([bytes, sub]) => new Binary(bytes, sub)),
    fc.dictionary(
      fc.constantFrom('a', 'b', '1'),
      fc.oneof(
        fc.integer().map((n) => new Int32(n)),
        fc.string(),
      ),
      { maxKeys: 2 },
    ),
  )

  it('is a total order: antisymmetric and transitive over mixed types', () => {
    fc.assert(
      fc.property(fc.array(key.map(ejson), { minLength: 3, maxLength: 12 }), (keys) => {
        const sorted = [...keys].sort(compareBsonKeys)
        for (let i = 0; i + 1 < sorted.length; i++) {
          for (let j = i + 1; j < sorted.length; j++) {
            expect(compareBsonKeys(sorted[i]!, sorted[j]!)).toBeLessThanOrEqual(0)
            expect(sign(compareBsonKeys(sorted[j]!, sorted[i]!))).toBe(
              -sign(compareBsonKeys(sorted[i]!, sorted[j]!)) || 0,
            )
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('rejects text that is not canonical EJSON', () => {
    expect(() => compareBsonKeys('{"a":', 'null')).toThrow(SyntaxError)
    expect(() => compareBsonKeys('1', 'null')).toThrow(SyntaxError)
  })
})
