// The envelope every stored object (data chunk, chunk index, snapshot manifest) is written in:
// a small fixed header, then the compressed payload. Layout in docs/snapshot-format.md.

import { createHash } from 'node:crypto'
import { DbsnapError } from '../errors.js'
import {
  CODEC_IDS,
  codecById,
  compress,
  decompress,
  type CodecName,
  type CodecSpec,
} from './codec.js'

/** `DBSN`: the first four bytes of every object. */
const MAGIC = 0x4e534244
export const OBJECT_FORMAT_VERSION = 1
const FIXED_HEADER = 16
const ID_BYTES = 32

/** What an object holds; a byte in the header, part of the format. */
export const ObjectKind = { data: 1, index: 2, manifest: 3, diff: 4 } as const
export type ObjectKind = keyof typeof ObjectKind

/** Objects larger than this, uncompressed, are refused on read (a guard against hostile data). */
export const MAX_OBJECT_BYTES = 512 * 1024 * 1024

export interface ObjectHeader {
  kind: ObjectKind
  codec: CodecName
  /** Length of the payload once decompressed. */
  payloadBytes: number
  /** For a delta object: the id of the object it patches and how many deltas deep it is. */
  base: { id: string; depth: number } | null
  /** The payload is a data chunk in columnar layout (columnar.ts). */
  columnar: boolean
  /** Bytes before the payload. */
  headerBytes: number
}

/** Lower-case hex SHA-256 of bytes: the id of an object's content, whole or in pieces. */
export function contentId(bytes: Uint8Array | readonly Uint8Array[]): string {
  const hash = createHash('sha256')
  for (const piece of bytes instanceof Uint8Array ? [bytes] : bytes) hash.update(piece)
  return hash.digest('hex')
}

export function isObjectId(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text)
}

/** Header flag bits: part of the format. */
const FLAG_DELTA = 1
const FLAG_COLUMNAR = 2

export interface EncodeOptions {
  /** The base a delta's edit script applies to, and the depth of the chain it starts. */
  base?: { id: string; depth: number } | null
  /** The payload is a data chunk in columnar layout. */
  columnar?: boolean
  /** Written into when large enough (the result is then a view of it); else a new buffer. */
  into?: Buffer
}

/** Builds a stored object: header + payload compressed with `codec`. */
export function encodeObject(
  kind: ObjectKind,
  codec: CodecSpec,
  payload: Uint8Array,
  options: EncodeOptions = {},
): Buffer {
  const { base = null, columnar = false, into } = options
  const compressed = compress(codec, payload)
  const extra = base === null ? 0 : ID_BYTES + 1
  const length = FIXED_HEADER + extra + compressed.byteLength
  const out =
    into !== undefined && into.byteLength >= length
      ? into.subarray(0, length)
      : Buffer.allocUnsafe(length)
  out.writeUInt32LE(MAGIC, 0)
  out.writeUInt8(OBJECT_FORMAT_VERSION, 4)
  out.writeUInt8(ObjectKind[kind], 5)
  out.writeUInt8(CODEC_IDS[codec.name], 6)
  out.writeUInt8((base === null ? 0 : FLAG_DELTA) | (columnar ? FLAG_COLUMNAR : 0), 7)
  out.writeUInt32LE(payload.byteLength, 8)
  out.writeUInt8(0, 12) // key id length: no encryption in format 1
  out.writeUInt8(0, 13) // nonce length
  out.writeUInt16LE(0, 14)
  if (base !== null) {
    out.write(base.id, FIXED_HEADER, 'hex')
    out.writeUInt8(base.depth, FIXED_HEADER + ID_BYTES)
  }
  out.set(compressed, FIXED_HEADER + extra)
  return out
}

/**
 * Reads and checks an object's header. `bytes` may hold only the first 64 bytes. `what` names
 * the object in messages, `key` (its storage key) in error details.
 */
export function decodeHeader(bytes: Uint8Array, what: string, key = what): ObjectHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const corrupt = (why: string): DbsnapError =>
    new DbsnapError('DATA_CORRUPT', `${what} is corrupt: ${why}`, { details: { object: key } })
  if (buf.byteLength < FIXED_HEADER || buf.readUInt32LE(0) !== MAGIC) {
    throw corrupt('not a DBSnap object (bad magic)')
  }
  const version = buf.readUInt8(4)
  if (version !== OBJECT_FORMAT_VERSION) throw corrupt(`unknown object format version ${version}`)
  const kindByte = buf.readUInt8(5)
  const kind = (Object.keys(ObjectKind) as ObjectKind[]).find((k) => ObjectKind[k] === kindByte)
  if (kind === undefined) throw corrupt(`unknown object kind ${kindByte}`)
  let codec: CodecName
  try {
    codec = codecById(buf.readUInt8(6))
  } catch {
    throw corrupt(`unknown codec id ${buf.readUInt8(6)}`)
  }
  const flags = buf.readUInt8(7)
  if ((flags & ~(FLAG_DELTA | FLAG_COLUMNAR)) !== 0) throw corrupt(`unknown flags ${flags}`)
  const columnar = (flags & FLAG_COLUMNAR) !== 0
  if (columnar && ((flags & FLAG_DELTA) !== 0 || kind !== 'data')) {
    throw corrupt('columnar layout on an object that is not a full data chunk')
  }
  const payloadBytes = buf.readUInt32LE(8)
  if (payloadBytes > MAX_OBJECT_BYTES) throw corrupt(`payload of ${payloadBytes} bytes`)
  if (buf.readUInt8(12) !== 0 || buf.readUInt8(13) !== 0) {
    throw corrupt('encrypted, and this version of DBSnap has no key support')
  }
  if (buf.readUInt16LE(14) !== 0) throw corrupt('reserved header bytes are not zero')
  let headerBytes = FIXED_HEADER
  let base: ObjectHeader['base'] = null
  if ((flags & FLAG_DELTA) !== 0) {
    if (buf.byteLength < FIXED_HEADER + ID_BYTES + 1) throw corrupt('truncated delta header')
    base = {
      id: buf.toString('hex', FIXED_HEADER, FIXED_HEADER + ID_BYTES),
      depth: buf.readUInt8(FIXED_HEADER + ID_BYTES),
    }
    headerBytes += ID_BYTES + 1
  }
  return { kind, codec, payloadBytes, base, columnar, headerBytes }
}

/** Header and decompressed payload of a stored object. */
export function decodeObject(
  bytes: Uint8Array,
  what: string,
  key = what,
): { header: ObjectHeader; payload: Uint8Array } {
  const header = decodeHeader(bytes, what, key)
  let payload: Uint8Array
  try {
    payload = decompress(header.codec, bytes.subarray(header.headerBytes), header.payloadBytes)
  } catch (err) {
    throw new DbsnapError('DATA_CORRUPT', `${what} is corrupt: payload does not decompress`, {
      cause: err,
      details: { object: key },
    })
  }
  if (payload.byteLength !== header.payloadBytes) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `${what} is corrupt: payload is ${payload.byteLength} bytes, header says ${header.payloadBytes}`,
      { details: { object: key } },
    )
  }
  return { header, payload }
}
