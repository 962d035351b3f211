import fc from 'fast-check'
import {
  BSON,
  BSONRegExp,
  BSONSymbol,
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
  type Document,
} from 'mongodb'
import { describe, expect, it } from 'vitest'
import { bsonIdToEjson, bsonToEjson } from './mongo-ejson.js'

const { EJSON } = BSON
const canonical = (doc: Document): string => EJSON.stringify(doc, { relaxed: false })

/** Field names JavaScript objects keep in insertion order, and EJSON does not read as types. */
const fieldName = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((s) => !s.includes('\0') && !/^(0|[1-9]\d*)$/.test(s) && !s.startsWith('$'))
  .filter((s) => s !== '__proto__')

const text = fc.string({ unit: 'binary', maxLength: 20 })

/** Every BSON type the driver writes and EJSON reads back to the same bytes. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => new Int32(n)),
  fc.double().map((d) => new Double(d)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Long.fromBigInt(b)),
  fc
    .tuple(
      fc.bigInt({ min: -(10n ** 33n), max: 10n ** 33n }),
      fc.integer({ min: -6000, max: 6000 }),
    )
    .map(([m, e]) => Decimal128.fromString(`${m}E${e}`)),
  text,
  fc
    .tuple(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(0, 1, 3, 5, 6, 0x80))
    .map(([bytes, sub]) => new Binary(bytes, sub)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Binary(b, 4)),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(b)),
  fc.boolean(),
  fc.constant(null),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms)),
  fc
    .tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 }))
    .map(([t, i]) => new Timestamp({ t, i })),
  fc
    .tuple(
      text.filter((s) => !s.includes('\0')),
      fc.subarray([...'ilmsux']).map((o) => o.join('')),
    )
    .map(([pattern, options]) => new BSONRegExp(pattern, options)),
  fc.constant(new MinKey()),
  fc.constant(new MaxKey()),
  text.map((s) => new Code(s)),
)

const { value: bsonValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('document'), tie('array')),
  document: fc
    .uniqueArray(fc.tuple(fieldName, tie('value')), { selector: ([k]) => k, maxLength: 5 })
    .map((entries): Document => Object.fromEntries(entries)),
  array: fc.array(tie('value'), { maxLength: 4 }),
}))

const documentArb = fc
  .uniqueArray(fc.tuple(fieldName, bsonValue), { selector: ([k]) => k, maxLength: 6 })
  .map((entries): Document => Object.fromEntries(entries))

describe('bsonToEjson', () => {
  it('prints what EJSON.stringify prints, and parses back to the same bytes', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const bytes = BSON.serialize(doc)
        const text = bsonToEjson(bytes)
        expect(text).toBe(canonical(doc))
        const parsed = EJSON.parse(text, { relaxed: false }) as Document
        expect(Buffer.from(BSON.serialize(parsed)).equals(Buffer.from(bytes))).toBe(true)
        expect(bsonToEjson(BSON.serialize(parsed))).toBe(text)
      }),
      { numRuns: 500 },
    )
  })

  it.each<[string, Document, string]>([
    [
      'Int32 and Double apart',
      { a: new Int32(1), b: new Double(1) },
      '{"a":{"$numberInt":"1"},"b":{"$numberDouble":"1.0"}}',
    ],
    [
      '-0.0, NaN, ±Infinity',
      { a: new Double(-0), b: new Double(NaN), c: new Double(Infinity), d: new Double(-Infinity) },
      '{"a":{"$numberDouble":"-0.0"},"b":{"$numberDouble":"NaN"},"c":{"$numberDouble":"Infinity"},"d":{"$numberDouble":"-Infinity"}}',
    ],
    [
      'big doubles',
      { a: new Double(1e21), b: new Double(2 ** 60), c: new Double(5e-324) },
      '{"a":{"$numberDouble":"1e+21"},"b":{"$numberDouble":"1152921504606846976.0"},"c":{"$numberDouble":"5e-324"}}',
    ],
    [
      'Long extremes',
      { a: Long.MIN_VALUE, b: Long.MAX_VALUE },
      '{"a":{"$numberLong":"-9223372036854775808"},"b":{"$numberLong":"9223372036854775807"}}',
    ],
    [
      'dates before 1970 and after 9999',
      { a: new Date(-62198755200000), b: new Date(253402300800000) },
      '{"a":{"$date":{"$numberLong":"-62198755200000"}},"b":{"$date":{"$numberLong":"253402300800000"}}}',
    ],
    [
      'UUID binary',
      { u: new Binary(Buffer.alloc(16, 0xab), 4) },
      '{"u":{"$binary":{"base64":"q6urq6urq6urq6urq6urqw==","subType":"04"}}}',
    ],
    [
      'user-defined subtype',
      { u: new Binary(Buffer.from([1]), 0x80) },
      '{"u":{"$binary":{"base64":"AQ==","subType":"80"}}}',
    ],
    [
      'regex with flags',
      { r: new BSONRegExp('^a.b$', 'imx') },
      '{"r":{"$regularExpression":{"pattern":"^a.b$","options":"imx"}}}',
    ],
    [
      'timestamp',
      { t: new Timestamp({ t: 4294967295, i: 1 }) },
      '{"t":{"$timestamp":{"t":4294967295,"i":1}}}',
    ],
    ['decimal', { d: Decimal128.fromString('-1.50E-7') }, '{"d":{"$numberDecimal":"-1.50E-7"}}'],
    [
      'keys with $ and .',
      { 'a.b': 1, $c: null, x$: 'y' },
      '{"a.b":{"$numberInt":"1"},"$c":null,"x$":"y"}',
    ],
    [
      'nested arrays',
      { a: [new Int32(1), [[]], { b: [] }] },
      '{"a":[{"$numberInt":"1"},[[]],{"b":[]}]}',
    ],
    [
      'code with scope',
      { c: new Code('f()', { x: new Int32(1) }) },
      '{"c":{"$code":"f()","$scope":{"x":{"$numberInt":"1"}}}}',
    ],
  ])('%s', (_name, doc, expected) => {
    const text = bsonToEjson(BSON.serialize(doc))
    expect(text).toBe(expected)
    expect(text).toBe(canonical(doc))
  })

  it('keeps integer-like keys in stored order, which JavaScript objects cannot', () => {
    // {"b": 1, "1": 2} as the server stores it: built by hand, as the driver would reorder it.
    const bytes = Buffer.from([
      ...[19, 0, 0, 0],
      ...[0x10, 0x62, 0, 1, 0, 0, 0],
      ...[0x10, 0x31, 0, 2, 0, 0, 0],
      0,
    ])
    expect(bsonToEjson(bytes)).toBe('{"b":{"$numberInt":"1"},"1":{"$numberInt":"2"}}')
  })

  it('writes the deprecated types in their own canonical form', () => {
    const doc = { s: new BSONSymbol('sym') }
    expect(bsonToEjson(BSON.serialize(doc))).toBe('{"s":{"$symbol":"sym"}}')
    // undefined (0x06) and a DBPointer (0x0c) to db.c with id 00…01, by hand.
    const ns = Buffer.from('db.c\0')
    const pointer = Buffer.concat([
      Buffer.from([0x0c, 0x70, 0]),
      Buffer.from([ns.length, 0, 0, 0]),
      ns,
      Buffer.from([...Array<number>(11).fill(0), 1]),
    ])
    const body = Buffer.concat([Buffer.from([0x06, 0x75, 0]), pointer, Buffer.from([0])])
    const bytes = Buffer.concat([Buffer.from([body.length + 4, 0, 0, 0]), body])
    expect(bsonToEjson(bytes)).toBe(
      '{"u":{"$undefined":true},"p":{"$dbPointer":{"$ref":"db.c","$id":{"$oid":"000000000000000000000001"}}}}',
    )
  })

  it('shows old binary (subtype 2) without its inner length, as the driver does', () => {
    const doc = { b: new Binary(Buffer.from('abc'), 2) }
    expect(bsonToEjson(BSON.serialize(doc))).toBe(canonical(doc))
  })

  it('keeps dates outside JavaScript range exact', () => {
    const bytes = Buffer.from(BSON.serialize({ d: new Date(0) }))
    bytes.writeBigInt64LE(-(2n ** 63n), 7)
    expect(bsonToEjson(bytes)).toBe('{"d":{"$date":{"$numberLong":"-9223372036854775808"}}}')
  })

  it('is byte-stable: the same bytes always give the same text', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const bytes = BSON.serialize(doc)
        expect(bsonToEjson(bytes)).toBe(bsonToEjson(Buffer.from(bytes)))
      }),
      { numRuns: 100 },
    )
  })

  it('rejects truncated and malformed documents', () => {
    const bytes = Buffer.from(BSON.serialize({ a: 'hello', b: new Int32(1) }))
    expect(() => bsonToEjson(bytes.subarray(0, bytes.length - 3))).toThrow(RangeError)
    const bad = Buffer.from(bytes)
    bad[4] = 0x42
    expect(() => bsonToEjson(bad)).toThrow(/unknown BSON type/)
  })
})

describe('bsonIdToEjson', () => {
  it('reads the _id wherever it is in the document', () => {
    const id = new ObjectId('0123456789abcdef01234567')
    expect(bsonIdToEjson(BSON.serialize({ a: [1, { b: 2 }], _id: id }))).toBe(
      '{"$oid":"0123456789abcdef01234567"}',
    )
    expect(bsonIdToEjson(BSON.serialize({ _id: { x: new Int32(1) } }))).toBe(
      '{"x":{"$numberInt":"1"}}',
    )
    expect(bsonIdToEjson(BSON.serialize({ _idx: 1 }))).toBeUndefined()
  })
})
