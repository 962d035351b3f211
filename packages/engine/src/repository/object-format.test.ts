import { describe, expect, it } from 'vitest'
import { parseCodec, type CodecSpec } from './codec.js'
import { contentId, decodeHeader, decodeObject, encodeObject } from './object-format.js'

const payload = Buffer.from('[1,"a"]\n[2,"b"]\n'.repeat(1000))

describe('object envelope', () => {
  it.each(['zstd:3', 'zstd:19', 'gzip:1', 'gzip:9', 'deflate:6', 'none'])(
    'round-trips with %s',
    (codec) => {
      const encoded = encodeObject('data', parseCodec(codec), payload)
      const { header, payload: decoded } = decodeObject(encoded, 'x')
      expect(Buffer.from(decoded).equals(payload)).toBe(true)
      expect(header).toMatchObject({
        kind: 'data',
        codec: codec.split(':')[0],
        base: null,
        payloadBytes: payload.byteLength,
      })
    },
  )

  it('records the base of a delta', () => {
    const base = { id: contentId(Buffer.from('base')), depth: 2 }
    const encoded = encodeObject('data', { name: 'zstd', level: 3 }, Buffer.from('=1\n'), { base })
    expect(decodeHeader(encoded.subarray(0, 64), 'x').base).toEqual(base)
  })

  it('detects a flipped byte anywhere', () => {
    const codec: CodecSpec = { name: 'zstd', level: 3 }
    const encoded = Buffer.from(encodeObject('index', codec, payload))
    for (const at of [0, 4, 5, 6, 7, 9, 12, encoded.length - 1]) {
      const bad = Buffer.from(encoded)
      bad[at] = bad[at]! ^ 0x01
      const check = (): void => {
        // What readers check: the kind they expect, and the content against its id.
        const { header, payload: out } = decodeObject(bad, 'object abc')
        if (header.kind !== 'index') throw new Error('wrong kind')
        if (contentId(out) !== contentId(payload)) throw new Error('hash mismatch')
      }
      expect(check).toThrow()
    }
  })

  it('refuses a header that promises a huge payload', () => {
    const bad = Buffer.alloc(16)
    bad.writeUInt32LE(0x4e534244, 0)
    bad.writeUInt8(1, 4)
    bad.writeUInt8(1, 5)
    bad.writeUInt8(1, 6)
    bad.writeUInt32LE(0xffffffff, 8)
    expect(() => decodeHeader(bad, 'object q')).toThrow(/object q is corrupt/)
  })
})

describe('parseCodec', () => {
  it.each([
    ['zstd', { name: 'zstd', level: 3 }],
    ['ZSTD:19', { name: 'zstd', level: 19 }],
    ['gzip', { name: 'gzip', level: 6 }],
    ['deflate:1', { name: 'deflate', level: 1 }],
    ['none', { name: 'none', level: 0 }],
  ])('%s', (text, spec) => expect(parseCodec(text)).toEqual(spec))

  it.each(['lz4', 'zstd:0', 'zstd:20', 'gzip:x', 'none:1', 'zstd:3:1', ''])(
    'rejects %j',
    (text) => {
      expect(() => parseCodec(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    },
  )
})

describe('zstd frames carry a content checksum', () => {
  it('a flipped payload byte fails to decode', () => {
    const encoded = Buffer.from(encodeObject('data', { name: 'zstd', level: 3 }, payload))
    for (const at of [24, Math.floor(encoded.length / 2), encoded.length - 2]) {
      const bad = Buffer.from(encoded)
      bad[at] = bad[at]! ^ 0x10
      expect(() => decodeObject(bad, 'object abc')).toThrow(/corrupt/)
    }
  })
})
