import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  canonicalToMysqlLiteral,
  canonicalToMysqlText,
  mysqlConversion,
  mysqlSelectExpression,
  mysqlValueEncoding,
  mysqlValueKind,
  type DriverValue,
  type MysqlValueKind,
} from './mysql-values.js'

describe('mysqlValueKind and its encoding', () => {
  it.each([
    ['tinyint', 'integer', 'integer'],
    ['INT', 'integer', 'integer'],
    ['mediumint', 'integer', 'integer'],
    ['year', 'integer', 'integer'],
    ['bigint', 'bigint', 'bigint'],
    ['bit', 'bit', 'bigint'],
    ['float', 'float', 'float'],
    ['double', 'float', 'float'],
    ['decimal', 'text', 'text'],
    ['datetime', 'text', 'text'],
    ['time', 'text', 'text'],
    ['varchar', 'text', 'text'],
    ['enum', 'text', 'text'],
    ['set', 'text', 'text'],
    ['json', 'text', 'text'],
    ['uuid', 'text', 'text'],
    ['varbinary', 'bytes', 'text'],
    ['longblob', 'bytes', 'text'],
    ['point', 'geometry', 'text'],
    ['geomcollection', 'geometry', 'text'],
  ])('%s -> %s, encoded as %s', (dataType, kind, encoding) => {
    expect(mysqlValueKind(dataType)).toBe(kind)
    expect(mysqlValueEncoding(kind as MysqlValueKind)).toBe(encoding)
  })
})

describe('mysqlSelectExpression', () => {
  it.each([
    ['bit', 'bit', 'CAST(`c` AS UNSIGNED)'],
    ['float', 'float', 'CAST(`c` AS DOUBLE)'],
    ['float', 'double', '`c`'],
    ['geometry', 'point', 'CAST(`c` AS BINARY)'],
    ['bytes', 'blob', '`c`'],
    ['text', 'json', '`c`'],
  ])('%s (%s) is selected as %s', (kind, dataType, expected) => {
    expect(mysqlSelectExpression('`c`', kind as MysqlValueKind, dataType)).toBe(expected)
  })
})

describe('mysqlConversion', () => {
  it.each<[MysqlValueKind, DriverValue, unknown]>([
    ['bigint', '9007199254740991', 9007199254740991],
    ['bigint', '9007199254740993', '9007199254740993'],
    ['bigint', '-9223372036854775808', '-9223372036854775808'],
    ['bit', 5, 5],
    ['bit', '18446744073709551615', '18446744073709551615'],
    ['float', 0.1, 0.1],
    ['float', -0, '-0'],
    ['float', 3.4028234663852886e38, 3.4028234663852886e38],
    ['bytes', Buffer.from([0, 255, 16]), '00ff10'],
    ['bytes', Buffer.alloc(0), ''],
    ['geometry', Buffer.from('e6100000', 'hex'), 'e6100000'],
    ['bigint', null, null],
    ['bytes', null, null],
  ])('%s %o -> %o', (kind, value, expected) => {
    expect(mysqlConversion(kind)?.(value)).toEqual(expected)
  })

  it('leaves integers and text as the driver gives them', () => {
    expect(mysqlConversion('integer')).toBeNull()
    expect(mysqlConversion('text')).toBeNull()
  })
})

describe('canonicalToMysqlText and canonicalToMysqlLiteral', () => {
  const escape = (text: string): string => `'${text.replaceAll("'", "''")}'`

  it.each<[MysqlValueKind, string, unknown, string]>([
    ['integer', 'int', -5, '-5'],
    ['bigint', 'bigint', '18446744073709551615', '18446744073709551615'],
    ['bit', 'bit', 10, '10'],
    ['float', 'double', 0.1, '0.1e0'],
    ['float', 'double', 1.5e300, '1.5e+300'],
    ['float', 'double', '-0', '-0e0'],
    ['bytes', 'varbinary', '00ff', "X'00ff'"],
    ['geometry', 'point', '', "X''"],
    ['text', 'decimal', '-12.50', '-12.50'],
    ['text', 'varchar', "it's", "'it''s'"],
    ['text', 'decimal', 'not a number', "'not a number'"],
    ['text', 'date', null, 'NULL'],
  ])('%s (%s) %o -> %s', (kind, dataType, value, literal) => {
    expect(canonicalToMysqlLiteral(kind, dataType, value as string, escape)).toBe(literal)
  })

  it.each<[MysqlValueKind, unknown]>([
    ['integer', 'x'],
    ['bigint', true],
    ['bytes', 'zz'],
    ['bytes', 'abc'],
    ['text', 5],
    ['float', false],
  ])('refuses %s %o as DATA_CORRUPT', (kind, value) => {
    expect(() => canonicalToMysqlText(kind, value as string)).toThrow(
      expect.objectContaining({ code: 'DATA_CORRUPT' }),
    )
  })

  it('turns bytes into hex and back without loss', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const canonical = mysqlConversion('bytes')?.(Buffer.from(bytes))
        const text = canonicalToMysqlText('bytes', canonical as string)
        expect(Buffer.from(text ?? '', 'hex')).toEqual(Buffer.from(bytes))
      }),
    )
  })

  it('keeps every double exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const canonical = mysqlConversion('float')?.(n)
        const text = canonicalToMysqlText('float', canonical as number | string)
        expect(Object.is(Number(text), n)).toBe(true)
      }),
    )
  })
})
