// Canonical Extended JSON v2 text (the `ejson` encoding of a collection's rows) back to values the
// driver serializes to the very bytes the text was read from: the inverse of `bsonToEjson`.

import {
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

/**
 * A document as a `Map` in the text's field order, its values typed exactly (`Int32`, `Double`,
 * `Long`, `Decimal128`, `Binary`…), nested documents as `Map`s too: the driver serializes a
 * `Map` in insertion order, where a JavaScript object (what `EJSON.parse` returns) would move
 * integer-like keys first (`{"b":…,"1":…}`). So `BSON.serialize(ejsonToDocument(bsonToEjson(b)))`
 * gives back the bytes `b`.
 *
 * Also reads relaxed EJSON (bare numbers: int32 when integral and in range, else double; ISO
 * `$date` strings) and `$uuid`, though `bsonToEjson` never writes them.
 *
 * @throws RangeError when the text is not JSON, not a document, holds a key twice, or holds a
 *   value the driver cannot write: the deprecated `undefined` and DBPointer types, dates outside
 *   JavaScript's range (±8.64e15 ms).
 */
export function ejsonToDocument(text: string): Map<string, unknown> {
  const value = parseEjson(text)
  if (!(value instanceof Map)) throw new RangeError('Extended JSON text is not a document')
  return value as Map<string, unknown>
}

/** Any Extended JSON value (an `_id`, an option) as `ejsonToDocument` types it. */
export function parseEjson(text: string): unknown {
  const parser = new EjsonParser(text)
  const value = parser.value()
  parser.skipSpace()
  if (parser.pos !== text.length) parser.fail('unexpected text after the value')
  return value
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const DOLLAR = 0x24
/** ±8.64e15 ms: the range of a JavaScript Date, which the driver writes dates from. */
const MAX_DATE_MS = 8.64e15

/** A recursive-descent JSON reader over one string; `pos` is the next character to read. */
class EjsonParser {
  readonly text: string
  pos = 0

  constructor(text: string) {
    this.text = text
  }

  value(): unknown {
    this.skipSpace()
    const c = this.text.charCodeAt(this.pos)
    switch (c) {
      case 0x7b: // {
        return this.document()
      case 0x5b: // [
        return this.array()
      case QUOTE:
        return this.string()
      case 0x74: // t
        return this.literal('true', true)
      case 0x66: // f
        return this.literal('false', false)
      case 0x6e: // n
        return this.literal('null', null)
      default:
        return this.number()
    }
  }

  /** A JSON object: a type wrapper (`{"$numberInt":"1"}`) as its value, else a `Map`. */
  document(): unknown {
    const map = new Map<string, unknown>()
    this.pos++
    this.skipSpace()
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++
      return map
    }
    for (;;) {
      this.skipSpace()
      if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('expected a key')
      const key = this.string()
      this.skipSpace()
      this.expect(0x3a) // :
      // A Map keeps one value per key; BSON may hold two, which the driver cannot write.
      if (map.has(key)) this.fail(`the key ${JSON.stringify(key)} appears twice in a document`)
      map.set(key, this.value())
      this.skipSpace()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x7d) break
      if (c !== 0x2c) this.fail('expected , or }', this.pos - 1)
    }
    const first = map.keys().next().value!
    return first.charCodeAt(0) === DOLLAR ? (typed(map, first) ?? map) : map
  }

  array(): unknown[] {
    const items: unknown[] = []
    this.pos++
    this.skipSpace()
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++
      return items
    }
    for (;;) {
      items.push(this.value())
      this.skipSpace()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x5d) return items
      if (c !== 0x2c) this.fail('expected , or ]', this.pos - 1)
    }
  }

  /** A JSON string at `pos` (its opening quote); escapes are left to JSON.parse. */
  string(): string {
    const text = this.text
    const start = this.pos + 1
    const close = text.indexOf('"', start)
    if (close < 0) this.fail('unterminated string')
    const escape = text.indexOf('\\', start)
    if (escape < 0 || escape > close) {
      this.pos = close + 1
      return text.slice(start, close)
    }
    let i = escape
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === BACKSLASH) i++
      else if (c === QUOTE) break
    }
    if (i >= text.length) this.fail('unterminated string')
    this.pos = i + 1
    try {
      return JSON.parse(text.slice(start - 1, i + 1)) as string
    } catch {
      return this.fail('bad string escape', start)
    }
  }

  /** A bare number: relaxed EJSON, which the driver writes as int32 or double like the spec. */
  number(): number {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
    match.lastIndex = this.pos
    const found = match.exec(this.text)
    if (found === null) this.fail('expected a value')
    this.pos += found[0].length
    return Number(found[0])
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('expected a value')
    this.pos += word.length
    return value
  }

  expect(c: number): void {
    if (this.text.charCodeAt(this.pos) !== c) this.fail(`expected ${String.fromCharCode(c)}`)
    this.pos++
  }

  skipSpace(): void {
    const text = this.text
    let c = text.charCodeAt(this.pos)
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++this.pos)
  }

  fail(why: string, at = this.pos): never {
    throw new RangeError(`malformed Extended JSON at ${at}: ${why}`)
  }
}

/**
 * The BSON value a type wrapper stands for, or undefined when `map` is a plain document whose
 * first key merely starts with `$` (the inherent ambiguity of Extended JSON: docs/mongodb.md).
 */
function typed(map: Map<string, unknown>, key: string): unknown {
  const v = map.get(key)
  const size = map.size
  const text = typeof v === 'string' ? v : undefined
  switch (size === 1 ? key : `${key} ${[...map.keys()].slice(1).join(' ')}`) {
    case '$oid':
      return text !== undefined && /^[0-9a-fA-F]{24}$/.test(text)
        ? ObjectId.createFromHexString(text)
        : undefined
    case '$numberInt': {
      const n = text !== undefined && /^-?\d+$/.test(text) ? Number(text) : NaN
      return n === (n | 0) ? new Int32(n) : undefined
    }
    case '$numberLong':
      return text !== undefined && /^-?\d+$/.test(text) ? Long.fromBigInt(BigInt(text)) : undefined
    case '$numberDouble':
      return text === undefined ? undefined : doubleOf(text)
    case '$numberDecimal':
      return text === undefined ? undefined : Decimal128.fromString(text)
    case '$binary':
      return binaryOf(v)
    case '$uuid':
      return text !== undefined &&
        /^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$/.test(text)
        ? new Binary(Buffer.from(text.replaceAll('-', ''), 'hex'), Binary.SUBTYPE_UUID)
        : undefined
    case '$date':
      return dateOf(v)
    case '$timestamp': {
      const t: unknown = v instanceof Map ? v.get('t') : undefined
      const i: unknown = v instanceof Map ? v.get('i') : undefined
      return v instanceof Map && v.size === 2 && isUint32(t) && isUint32(i)
        ? new Timestamp({ t, i })
        : undefined
    }
    case '$regularExpression': {
      if (!(v instanceof Map) || v.size !== 2) return undefined
      const pattern: unknown = v.get('pattern')
      const options: unknown = v.get('options')
      if (typeof pattern !== 'string' || typeof options !== 'string') return undefined
      // The driver writes the flags sorted, as MongoDB stores them.
      return new BSONRegExp(pattern, options)
    }
    case '$code':
      return text === undefined ? undefined : new Code(text)
    case '$code $scope': {
      const scope = map.get('$scope')
      return text !== undefined && scope instanceof Map ? new Code(text, scope) : undefined
    }
    case '$symbol':
      return text === undefined ? undefined : new BSONSymbol(text)
    case '$minKey':
      return v === 1 ? new MinKey() : undefined
    case '$maxKey':
      return v === 1 ? new MaxKey() : undefined
    case '$undefined':
      return unwritable('undefined')
    case '$dbPointer':
      return unwritable('DBPointer')
    default:
      return undefined
  }
}

function doubleOf(text: string): Double | undefined {
  if (text === 'NaN') return new Double(NaN)
  if (text === 'Infinity') return new Double(Infinity)
  if (text === '-Infinity') return new Double(-Infinity)
  return /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)
    ? new Double(Number(text))
    : undefined
}

function binaryOf(v: unknown): Binary | undefined {
  if (!(v instanceof Map) || v.size !== 2) return undefined
  const base64: unknown = v.get('base64')
  const subType: unknown = v.get('subType')
  if (
    typeof base64 !== 'string' ||
    typeof subType !== 'string' ||
    !/^[0-9a-fA-F]{1,2}$/.test(subType)
  ) {
    return undefined
  }
  return new Binary(Buffer.from(base64, 'base64'), parseInt(subType, 16))
}

/** `{"$date":{"$numberLong":"…"}}` (canonical), or relaxed: an ISO string or a number. */
function dateOf(v: unknown): Date | undefined {
  let ms: number
  if (v instanceof Long) {
    if (v.greaterThan(Long.fromNumber(MAX_DATE_MS)) || v.lessThan(Long.fromNumber(-MAX_DATE_MS))) {
      return unwritable(`date ${v.toString()} ms (outside JavaScript's date range)`)
    }
    ms = v.toNumber()
  } else if (typeof v === 'string') {
    ms = Date.parse(v)
  } else if (typeof v === 'number') {
    ms = v
  } else {
    return undefined
  }
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms) : undefined
}

function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}

function unwritable(what: string): never {
  throw new RangeError(
    `a value of BSON type ${what}, which the MongoDB Node.js driver cannot write`,
  )
}
