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
} from 'mongodb'
import { describe, expect, it } from 'vitest'
import { ejsonToDocument, parseEjson } from './mongo-ejson-decode.js'
import { bsonToEjson } from './mongo-ejson.js'

/** Field names, integer-like ones included (a Map keeps their order); none read as a type. */
const fieldName = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((s) => !s.includes('\0') && !s.startsWith('$'))

const text = fc.string({ unit: 'binary', maxLength: 20 })

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
    .tuple(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 0x80))
    .map(([bytes, sub]) => new Binary(bytes, sub)),
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
  text.map((s) => new BSONSymbol(s)),
)

const { value: bsonValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('document'), tie('array')),
  document: fc
    .uniqueArray(fc.tuple(fieldName, tie('value')), { selector: ([k]) => k, maxLength: 5 })
    .map((entries) => new Map(entries)),
  array: fc.array(tie('value'), { maxLength: 4 }),
}))

const documentArb = fc
  .uniqueArray(fc.tuple(fieldName, bsonValue), { selector: ([k]) => k, maxLength: 6 })
  .map((entries) => new Map(entries))

const bytesOf = (doc: unknown): Buffer => Buffer.from(BSON.serialize(doc as BSON.Document))

describe('ejsonToDocument', () => {
  it('turns bsonToEjson text back into the same bytes, field order included', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const bytes = bytesOf(doc)
        const decoded = ejsonToDocument(bsonToEjson(bytes))
        expect(bytesOf(decoded).equals(bytes)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps integer-like keys where the text has them, which EJSON.parse would move first', () => {
    const text = '{"b":{"$numberInt":"1"},"1":"one","a":{"9":null,"2":[{"0":true}]}}'
    const doc = ejsonToDocument(text)
    expect([...doc.keys()]).toEqual(['b', '1', 'a'])
    expect(bsonToEjson(bytesOf(doc))).toBe(text)
    const parsed = BSON.EJSON.parse(text, { relaxed: false }) as BSON.Document
    expect(bsonToEjson(bytesOf(parsed))).not.toBe(text)
  })

  it.each<[string, string]>([
    [
      'Int32, Double, Long apart',
      '{"a":{"$numberInt":"1"},"b":{"$numberDouble":"1.0"},"c":{"$numberLong":"1"}}',
    ],
    [
      '-0.0, NaN and ±Infinity',
      '{"a":{"$numberDouble":"-0.0"},"b":{"$numberDouble":"NaN"},"c":{"$numberDouble":"Infinity"},"d":{"$numberDouble":"-Infinity"}}',
    ],
    ['old binary (subtype 2)', '{"b":{"$binary":{"base64":"b2xk","subType":"02"}}}'],
    ['regex', '{"r":{"$regularExpression":{"pattern":"a\\\\.b","options":"imx"}}}'],
    ['code with scope', '{"c":{"$code":"f()","$scope":{"x":{"$numberInt":"1"}}}}'],
    ['escapes', '{"s":"quote \\" backslash \\\\ nul \\u0000 é 😀"}'],
    ['a document whose first key only looks like a wrapper', '{"x":{"$oid":"nothex","n":null}}'],
    ['empty document and array', '{"d":{},"a":[]}'],
  ])('%s', (_, text) => {
    expect(bsonToEjson(bytesOf(ejsonToDocument(text)))).toBe(text)
  })

  it('reads relaxed forms: bare numbers, ISO dates, $uuid', () => {
    const doc = ejsonToDocument(
      ' { "i" : 1 , "d" : 1.5, "big": 3000000000, "t": {"$date": "1970-01-01T00:00:01Z"}, "u": {"$uuid": "0b6f8a1e-7c1d-4b4e-9a3f-2d9c8e7f6a5b"} } ',
    )
    expect(bsonToEjson(bytesOf(doc))).toBe(
      '{"i":{"$numberInt":"1"},"d":{"$numberDouble":"1.5"},"big":{"$numberDouble":"3000000000.0"},"t":{"$date":{"$numberLong":"1000"}},"u":{"$binary":{"base64":"C2+KHnwdS06aPy2cjn9qWw==","subType":"04"}}}',
    )
  })

  it('parses an _id alone', () => {
    expect(parseEjson('{"$oid":"65a1b2c3d4e5f60718293a4b"}')).toEqual(
      new ObjectId('65a1b2c3d4e5f60718293a4b'),
    )
    expect(parseEjson('"sku-1"')).toBe('sku-1')
    expect(parseEjson('null')).toBeNull()
  })

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"a":', /malformed Extended JSON/],
    ['trailing text', '{} x', /after the value/],
    ['not a document', '[1]', /not a document/],
    ['a key twice', '{"a":1,"a":2}', /appears twice/],
    ['undefined', '{"a":{"$undefined":true}}', /type undefined/],
    [
      'DBPointer',
      '{"a":{"$dbPointer":{"$ref":"c","$id":{"$oid":"65a1b2c3d4e5f60718293a4b"}}}}',
      /type DBPointer/,
    ],
    [
      'a date beyond JavaScript',
      '{"a":{"$date":{"$numberLong":"9000000000000000"}}}',
      /date range/,
    ],
  ])('refuses %s', (_, text, message) => {
    expect(() => ejsonToDocument(text)).toThrow(message)
  })
})
