// MongoDB's BSON comparison order over canonical Extended JSON v2 text (the `ejson` encoding):
// the order collections are read and diffed in, implemented without the driver.

/**
 * A BSON value as canonical EJSON spells it, with documents as ordered entries: `JSON.parse`
 * would move integer-like keys (`"2"`, `"10"`) to the front, and document order matters here.
 */
type Json = null | boolean | number | string | Json[] | Entries
interface Entries {
  entries: [string, Json][]
}

/**
 * MongoDB's canonical type order ("Comparison/Sort Order" in the MongoDB manual; the server's
 * `canonicalizeBSONType`): values of different brackets compare by bracket alone, so every
 * number sorts before every string whatever their values.
 */
const BRACKET = {
  minKey: 0,
  undefined: 1,
  null: 2,
  number: 3,
  string: 4,
  object: 5,
  array: 6,
  binData: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  dbPointer: 13,
  javascript: 14,
  javascriptWithScope: 15,
  maxKey: 16,
} as const

/** A type bracket, named as MongoDB's `$type` operator names the types in it. */
export type BsonBracket = keyof typeof BRACKET

/** The brackets in sort order, e.g. to read the brackets after a key's one (`$type`). */
export const BSON_BRACKETS = Object.keys(BRACKET) as BsonBracket[]

/**
 * Compares two BSON values given as canonical Extended JSON v2 text (as the `ejson` encoding
 * holds `_id`), the way MongoDB compares them: by type bracket, then within the bracket —
 * numbers by exact value across int, long, double and decimal (NaN first; `-0` equals `0`),
 * strings and symbols by UTF-8 bytes, documents and arrays element by element (type bracket,
 * then field name, then value; the shorter first), binary by length, then subtype, then bytes,
 * ObjectIds by bytes, dates as signed milliseconds, timestamps by time then increment, regexes by
 * pattern then options. Returns a negative number, 0 or a positive number.
 *
 * @throws SyntaxError when a text is not canonical EJSON.
 * @example
 * compareBsonKeys('{"$numberInt":"2"}', '{"$numberDouble":"10.5"}') // < 0
 * compareBsonKeys('{"$numberLong":"9"}', '"a"')                     // < 0: numbers before strings
 */
export function compareBsonKeys(a: string, b: string): number {
  // The common case, ObjectId against ObjectId: lower-case hex compares as the bytes do.
  if (isObjectIdText(a) && isObjectIdText(b)) return a < b ? -1 : a > b ? 1 : 0
  return compareValues(parseOrdered(a), parseOrdered(b))
}

/** `{"$oid":"<24 hex digits>"}`, as canonical EJSON writes an ObjectId. */
function isObjectIdText(text: string): boolean {
  return text.length === 35 && text.startsWith('{"$oid":"') && text.endsWith('"}')
}

/** The type bracket of a value given as canonical EJSON text. */
export function bsonBracket(text: string): BsonBracket {
  return bracketName(parseOrdered(text))
}

function bracketName(value: Json): BsonBracket {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'string') return 'string'
  if (typeof value === 'number') {
    throw new SyntaxError(`canonical EJSON has no bare numbers, got ${value}`)
  }
  if (Array.isArray(value)) return 'array'
  const first = value.entries[0]?.[0]
  switch (first) {
    case '$numberInt':
    case '$numberLong':
    case '$numberDouble':
    case '$numberDecimal':
      return 'number'
    case '$symbol':
      return 'string'
    case '$binary':
      return 'binData'
    case '$oid':
      return 'objectId'
    case '$date':
      return 'date'
    case '$timestamp':
      return 'timestamp'
    case '$regularExpression':
      return 'regex'
    case '$dbPointer':
      return 'dbPointer'
    case '$code':
      return value.entries.length > 1 ? 'javascriptWithScope' : 'javascript'
    case '$minKey':
      return 'minKey'
    case '$maxKey':
      return 'maxKey'
    case '$undefined':
      return 'undefined'
    default:
      return 'object'
  }
}

function compareValues(a: Json, b: Json): number {
  const bracketA = bracketName(a)
  const bracketB = bracketName(b)
  if (bracketA !== bracketB) return BRACKET[bracketA] - BRACKET[bracketB]
  switch (bracketA) {
    case 'minKey':
    case 'maxKey':
    case 'undefined':
    case 'null':
      return 0
    case 'bool':
      return Number(a) - Number(b)
    case 'number':
      return compareNumbers(toNumber(a as Entries), toNumber(b as Entries))
    case 'string':
      return compareUtf8(stringOf(a), stringOf(b))
    case 'object':
      return compareEntries((a as Entries).entries, (b as Entries).entries)
    case 'array':
      return compareEntries(
        (a as Json[]).map((v, i) => [String(i), v]),
        (b as Json[]).map((v, i) => [String(i), v]),
      )
    case 'binData':
      return compareBinary(wrapped(a, '$binary'), wrapped(b, '$binary'))
    case 'objectId':
      return compareUtf8(text(wrapped(a, '$oid')), text(wrapped(b, '$oid')))
    case 'date':
      return compareBig(dateMillis(a), dateMillis(b))
    case 'timestamp': {
      const x = wrapped(a, '$timestamp')
      const y = wrapped(b, '$timestamp')
      return compareBig(
        (BigInt(field(x, 't') as number) << 32n) + BigInt(field(x, 'i') as number),
        (BigInt(field(y, 't') as number) << 32n) + BigInt(field(y, 'i') as number),
      )
    }
    case 'regex': {
      const x = wrapped(a, '$regularExpression')
      const y = wrapped(b, '$regularExpression')
      return (
        compareUtf8(text(field(x, 'pattern')), text(field(y, 'pattern'))) ||
        compareUtf8(text(field(x, 'options')), text(field(y, 'options')))
      )
    }
    case 'dbPointer': {
      // The server compares the raw values: namespace length first, then its bytes, then the id.
      const x = wrapped(a, '$dbPointer')
      const y = wrapped(b, '$dbPointer')
      const nsX = Buffer.from(text(field(x, '$ref')), 'utf8')
      const nsY = Buffer.from(text(field(y, '$ref')), 'utf8')
      return (
        nsX.length - nsY.length ||
        Buffer.compare(nsX, nsY) ||
        compareValues(field(x, '$id'), field(y, '$id'))
      )
    }
    case 'javascript':
      return compareUtf8(text(wrapped(a, '$code')), text(wrapped(b, '$code')))
    case 'javascriptWithScope':
      return (
        compareUtf8(text(wrapped(a, '$code')), text(wrapped(b, '$code'))) ||
        compareValues(wrapped(a, '$scope'), wrapped(b, '$scope'))
      )
  }
}

/** Documents (and arrays, keyed "0", "1", …) element by element, as `BSONObj::woCompare`. */
function compareEntries(a: [string, Json][], b: [string, Json][]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const [nameA, valueA] = a[i]!
    const [nameB, valueB] = b[i]!
    const order =
      BRACKET[bracketName(valueA)] - BRACKET[bracketName(valueB)] ||
      compareUtf8(nameA, nameB) ||
      compareValues(valueA, valueB)
    if (order !== 0) return order
  }
  return a.length - b.length
}

/** Binary: length first, then subtype, then the bytes. */
function compareBinary(a: Json, b: Json): number {
  const bytesA = Buffer.from(text(field(a, 'base64')), 'base64')
  const bytesB = Buffer.from(text(field(b, 'base64')), 'base64')
  return (
    bytesA.length - bytesB.length ||
    parseInt(text(field(a, 'subType')), 16) - parseInt(text(field(b, 'subType')), 16) ||
    Buffer.compare(bytesA, bytesB)
  )
}

function dateMillis(value: Json): bigint {
  const date = wrapped(value, '$date')
  return BigInt(text(wrapped(date, '$numberLong')))
}

/**
 * A number as an exact rational `mantissa × 2^twos × 10^tens`, or a special value: comparing
 * 2^63 − 1 (long) with 2^63 (double) or 0.1 (decimal) with 0.1 (double) must be exact.
 */
type ExactNumber =
  | { kind: 'finite'; mantissa: bigint; twos: number; tens: number }
  | { kind: 'nan' }
  | { kind: 'inf'; sign: 1 | -1 }

function toNumber(value: Entries): ExactNumber {
  const [type, raw] = value.entries[0]!
  const digits = text(raw)
  switch (type) {
    case '$numberInt':
    case '$numberLong':
      return { kind: 'finite', mantissa: BigInt(digits), twos: 0, tens: 0 }
    case '$numberDouble':
      return doubleToExact(Number(digits))
    default:
      return decimalToExact(digits)
  }
}

function doubleToExact(x: number): ExactNumber {
  if (Number.isNaN(x)) return { kind: 'nan' }
  if (!Number.isFinite(x)) return { kind: 'inf', sign: x > 0 ? 1 : -1 }
  if (x === 0) return { kind: 'finite', mantissa: 0n, twos: 0, tens: 0 }
  // The IEEE bits give the exact value: an integer mantissa times a power of two.
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  const exponent = Number((bits >> 52n) & 0x7ffn)
  const fraction = bits & 0xfffffffffffffn
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n)
  const twos = (exponent === 0 ? 1 : exponent) - 1075
  return { kind: 'finite', mantissa: x < 0 ? -mantissa : mantissa, twos, tens: 0 }
}

/** Decimal128 as the driver prints it: `1.50`, `-0`, `1.2E+5`, `NaN`, `-Infinity`. */
function decimalToExact(textValue: string): ExactNumber {
  if (textValue === 'NaN' || textValue === '-NaN') return { kind: 'nan' }
  if (textValue === 'Infinity') return { kind: 'inf', sign: 1 }
  if (textValue === '-Infinity') return { kind: 'inf', sign: -1 }
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/i.exec(textValue)
  if (match === null) throw new SyntaxError(`not a canonical $numberDecimal: ${textValue}`)
  const [, sign, whole, fraction = '', exponent = '0'] = match
  const mantissa = BigInt(`${whole}${fraction}`)
  return {
    kind: 'finite',
    mantissa: sign === '-' ? -mantissa : mantissa,
    twos: 0,
    tens: Number(exponent) - fraction.length,
  }
}

/** MongoDB orders NaN below every other number (and equal to itself). */
function compareNumbers(a: ExactNumber, b: ExactNumber): number {
  if (a.kind === 'nan' || b.kind === 'nan') {
    return (a.kind === 'nan' ? 0 : 1) - (b.kind === 'nan' ? 0 : 1)
  }
  if (a.kind === 'inf' || b.kind === 'inf') {
    return (a.kind === 'inf' ? a.sign : 0) - (b.kind === 'inf' ? b.sign : 0)
  }
  // Scale both to integers: multiply by the larger negative powers of two and ten.
  const twos = Math.min(a.twos, b.twos, 0)
  const tens = Math.min(a.tens, b.tens, 0)
  const scaled = (n: { mantissa: bigint; twos: number; tens: number }): bigint =>
    n.mantissa * (1n << BigInt(n.twos - twos)) * 10n ** BigInt(n.tens - tens)
  return compareBig(scaled(a), scaled(b))
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Bytewise over UTF-8, as the server compares strings without a collation. */
function compareUtf8(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates; skip the encoding otherwise.
  if (!/[\ud800-\udfff]/.test(a + b)) return a < b ? -1 : a > b ? 1 : 0
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function stringOf(value: Json): string {
  return typeof value === 'string' ? value : text(wrapped(value, '$symbol'))
}

function wrapped(value: Json, name: string): Json {
  return field(value, name)
}

function field(value: Json, name: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SyntaxError(`expected a document with "${name}", got ${JSON.stringify(value)}`)
  }
  const found = value.entries.find(([key]) => key === name)
  if (found === undefined) throw new SyntaxError(`expected a field "${name}"`)
  return found[1]
}

function text(value: Json): string {
  if (typeof value !== 'string') throw new SyntaxError(`expected a string, got ${typeof value}`)
  return value
}

const LITERAL = /true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/**
 * Parses JSON keeping each object's keys in their written order (as entries). Strings and
 * numbers are decoded by `JSON.parse` itself, so escapes follow the JSON grammar exactly.
 */
function parseOrdered(source: string): Json {
  let pos = 0
  const fail = (): never => {
    throw new SyntaxError(`invalid JSON at offset ${pos}: ${source.slice(pos, pos + 20)}`)
  }
  const skipSpace = (): void => {
    while (pos < source.length && ' \t\n\r'.includes(source[pos]!)) pos++
  }
  const stringToken = (): string => {
    const start = pos
    pos++
    while (pos < source.length && source[pos] !== '"') pos += source[pos] === '\\' ? 2 : 1
    if (pos >= source.length) fail()
    pos++
    return JSON.parse(source.slice(start, pos)) as string
  }
  const value = (): Json => {
    skipSpace()
    const c = source[pos]
    if (c === '"') return stringToken()
    if (c === '{') {
      pos++
      const entries: [string, Json][] = []
      skipSpace()
      if (source[pos] === '}') {
        pos++
        return { entries }
      }
      for (;;) {
        skipSpace()
        if (source[pos] !== '"') fail()
        const key = stringToken()
        skipSpace()
        if (source[pos++] !== ':') fail()
        entries.push([key, value()])
        skipSpace()
        const next = source[pos++]
        if (next === '}') return { entries }
        if (next !== ',') fail()
      }
    }
    if (c === '[') {
      pos++
      const items: Json[] = []
      skipSpace()
      if (source[pos] === ']') {
        pos++
        return items
      }
      for (;;) {
        items.push(value())
        skipSpace()
        const next = source[pos++]
        if (next === ']') return items
        if (next !== ',') fail()
      }
    }
    LITERAL.lastIndex = pos
    const literal = LITERAL.exec(source)
    if (literal === null) return fail()
    pos += literal[0].length
    return JSON.parse(literal[0]) as Json
  }
  const result = value()
  skipSpace()
  if (pos !== source.length) fail()
  return result
}
