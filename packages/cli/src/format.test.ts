import { describe, expect, it } from 'vitest'
import { formatBytes, formatCount, keyValueLines, plural } from './format.js'

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [7_708_007, '7.35 MiB'],
    [1.5 * 1024 ** 4, '1.50 TiB'],
    [200 * 1024 ** 3, '200.0 GiB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
  })
})

describe('formatCount', () => {
  it.each([0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 49_998, -1234, 9_007_199_254_740_991, 1.5])(
    '%d reads as toLocaleString(en-US) does',
    (count) => {
      expect(formatCount(count)).toBe(count.toLocaleString('en-US', { maximumFractionDigits: 20 }))
    },
  )
})

describe('plural and keyValueLines', () => {
  it('pluralizes', () => {
    expect([plural(0, 'table'), plural(1, 'table'), plural(2, 'view')]).toEqual([
      '0 tables',
      '1 table',
      '2 views',
    ])
  })

  it('aligns values after the longest label', () => {
    process.env['NO_COLOR'] = '1'
    expect(
      keyValueLines([
        ['a', '1'],
        ['long', '2'],
      ]),
    ).toEqual(['  a     1', '  long  2'])
  })
})
