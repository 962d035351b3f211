// Raw BSON documents (as the server sent them) to canonical Extended JSON v2 text: the `ejson`
// encoding of a collection's rows, written straight from the bytes so nothing is lost on the way.

import { Decimal128 } from 'mongodb'

/**
 * A BSON document's bytes as canonical Extended JSON v2: what `EJSON.stringify(doc, {relaxed:
 * false})` prints for the same document, except that nothing passes through JavaScript objects,
 * so field order is the stored order even for integer-like keys (`{"b":…,"1":…}`), duplicate
 * keys survive, Int32 and Double stay apart, dates outside JavaScript's range keep their exact
 * milliseconds and deprecated types keep their own form (`$undefined`, `$symbol`, `$dbPointer`).
 *
 * @param bytes - the document's bytes, from its int32 length to its trailing 0.
 * @throws RangeError when the bytes are not a well-formed BSON document.
 */
export function bsonToEjson(bytes: Uint8Array): string {
  const reader = new EjsonReader(bytes)
  const length = reader.length(0, reader.buf.length)
  if (length !== reader.buf.length) {
    malformed(`document length ${length} for ${reader.buf.length} bytes`)
  }
  return reader.document(false)
}

/**
 * The canonical EJSON of a document's `_id`, or undefined when it has none; reads the bytes of
 * that one field only.
 */
export function bsonIdToEjson(bytes: Uint8Array): string | undefined {
  const reader = new EjsonReader(bytes)
  const buf = reader.buf
  const end = reader.length(0, buf.length) - 1
  reader.pos = 4
  while (reader.pos < end) {
    const at = reader.pos
    const type = buf[at]!
    reader.pos = reader.cstringEnd(at + 1, end) + 1
    // `_id` is 0x5f 0x69 0x64.
    const isId =
      reader.pos - at === 5 && buf[at + 1] === 0x5f && buf[at + 2] === 0x69 && buf[at + 3] === 0x64
    const text = reader.value(type, end)
    if (isId) return text
  }
  return undefined
}

/**
 * Walks one document's bytes, writing canonical EJSON as it goes: each method reads the value at
 * `pos` and leaves `pos` after it (no object per value, so a document costs one string).
 */
class EjsonReader {
  readonly buf: Buffer
  pos = 0

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** The embedded document or array at `pos`. */
  document(array: boolean): string {
    const buf = this.buf
    const start = this.pos
    const end = start + this.length(start, buf.length) - 1
    if (buf[end] !== 0) malformed(`document at ${start} does not end with a 0 byte`)
    this.pos = start + 4
    let out = array ? '[' : '{'
    while (this.pos < end) {
      if (out.length > 1) out += ','
      const type = buf[this.pos]!
      const nameAt = this.pos + 1
      const nameEnd = this.cstringEnd(nameAt, end)
      this.pos = nameEnd + 1
      // An array's keys are its indexes ("0", "1", …); canonical EJSON writes a JSON array.
      if (!array) out += `${JSON.stringify(buf.toString('utf8', nameAt, nameEnd))}:`
      out += this.value(type, end)
    }
    if (this.pos !== end) malformed(`element runs past the end of the document at ${start}`)
    this.pos = end + 1
    return out + (array ? ']' : '}')
  }

  /** The value of type `type` at `pos`, in a document ending at `end`. */
  value(type: number, end: number): string {
    const buf = this.buf
    const at = this.pos
    switch (type) {
      case 0x01:
        return `{"$numberDouble":"${doubleText(buf.readDoubleLE(this.take(8, end)))}"}`
      case 0x02:
        return JSON.stringify(this.string(end))
      case 0x03:
        return this.document(false)
      case 0x04:
        return this.document(true)
      case 0x05: {
        let size = buf.readInt32LE(this.take(5, end))
        const subtype = buf[at + 4]!
        if (size < 0) malformed(`negative binary length at ${at}`)
        let from = at + 5
        this.take(size, end)
        // Subtype 2 (old binary) repeats the length inside; the driver and EJSON show what follows.
        if (subtype === 0x02 && size >= 4) {
          size = buf.readInt32LE(from)
          from += 4
        }
        const base64 = buf.toString('base64', from, from + size)
        return `{"$binary":{"base64":"${base64}","subType":"${subtype.toString(16).padStart(2, '0')}"}}`
      }
      case 0x06:
        return '{"$undefined":true}'
      case 0x07:
        return `{"$oid":"${buf.toString('hex', this.take(12, end), at + 12)}"}`
      case 0x08:
        return buf[this.take(1, end)] === 0 ? 'false' : 'true'
      case 0x09:
        return `{"$date":{"$numberLong":"${buf.readBigInt64LE(this.take(8, end))}"}}`
      case 0x0a:
        return 'null'
      case 0x0b: {
        const patternEnd = this.cstringEnd(at, end)
        const optionsEnd = this.cstringEnd(patternEnd + 1, end)
        this.pos = optionsEnd + 1
        const pattern = JSON.stringify(buf.toString('utf8', at, patternEnd))
        const options = JSON.stringify(buf.toString('utf8', patternEnd + 1, optionsEnd))
        return `{"$regularExpression":{"pattern":${pattern},"options":${options}}}`
      }
      case 0x0c: {
        const ns = JSON.stringify(this.string(end))
        const idAt = this.take(12, end)
        const id = buf.toString('hex', idAt, idAt + 12)
        return `{"$dbPointer":{"$ref":${ns},"$id":{"$oid":"${id}"}}}`
      }
      case 0x0d:
        return `{"$code":${JSON.stringify(this.string(end))}}`
      case 0x0e:
        return `{"$symbol":${JSON.stringify(this.string(end))}}`
      case 0x0f: {
        const total = this.length(at, end + 1)
        this.pos = at + 4
        const code = JSON.stringify(this.string(end))
        const scope = this.document(false)
        if (this.pos !== at + total) malformed(`code with scope at ${at} has a bad length`)
        return `{"$code":${code},"$scope":${scope}}`
      }
      case 0x10:
        return `{"$numberInt":"${buf.readInt32LE(this.take(4, end))}"}`
      case 0x11:
        this.take(8, end)
        return `{"$timestamp":{"t":${buf.readUInt32LE(at + 4)},"i":${buf.readUInt32LE(at)}}}`
      case 0x12:
        return `{"$numberLong":"${buf.readBigInt64LE(this.take(8, end))}"}`
      case 0x13:
        this.take(16, end)
        return `{"$numberDecimal":"${new Decimal128(buf.subarray(at, at + 16)).toString()}"}`
      case 0xff:
        return '{"$minKey":1}'
      case 0x7f:
        return '{"$maxKey":1}'
      default:
        return malformed(`unknown BSON type 0x${type.toString(16)} at ${at - 1}`)
    }
  }

  /** Moves `pos` past `n` bytes that must lie before `end`; returns where they start. */
  take(n: number, end: number): number {
    const at = this.pos
    if (at + n > end) malformed(`value at ${at} is truncated`)
    this.pos = at + n
    return at
  }

  /** A BSON string at `pos` (int32 length including the trailing 0, bytes, 0). */
  string(end: number): string {
    const buf = this.buf
    const at = this.pos
    if (at + 4 > end) malformed(`string at ${at} is truncated`)
    const size = buf.readInt32LE(at)
    if (size < 1 || at + 4 + size > end || buf[at + 3 + size] !== 0) {
      malformed(`string at ${at} has a bad length ${size}`)
    }
    this.pos = at + 4 + size
    return buf.toString('utf8', at + 4, at + 3 + size)
  }

  /** Where the 0-terminated string starting at `at` ends (the index of its 0 byte). */
  cstringEnd(at: number, end: number): number {
    const zero = this.buf.indexOf(0, at)
    if (zero < 0 || zero >= end) malformed(`unterminated name at ${at}`)
    return zero
  }

  /** The int32 length of the document at `at`, checked against `limit`. */
  length(at: number, limit: number): number {
    if (at + 4 > limit) malformed(`length at ${at} is truncated`)
    const length = this.buf.readInt32LE(at)
    if (length < 5 || at + length > limit) malformed(`bad document length ${length} at ${at}`)
    return length
  }
}

/**
 * A double as canonical EJSON writes it (the bson library's rule): integral values with `.0`,
 * others in JavaScript's shortest round-trip form, `-0.0`, `NaN`, `Infinity`, `-Infinity`.
 */
function doubleText(value: number): string {
  if (Object.is(value, -0)) return '-0.0'
  return Number.isInteger(value) ? value.toFixed(1) : String(value)
}

function malformed(why: string): never {
  throw new RangeError(`malformed BSON: ${why}`)
}
