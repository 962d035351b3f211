import { describe, expect, it } from 'vitest'
import type { ColumnSchema, TableSchema } from '../schema/schema.js'
import { columnPairs, jsonValuePatch } from './field-diff.js'

const column = (name: string, type: string, encoding: ColumnSchema['encoding'] = 'text') =>
  ({ name, type, encoding }) as ColumnSchema

describe('columnPairs', () => {
  it('knows JSON columns: json/jsonb, MariaDB JSON (a checked LONGTEXT), MongoDB documents', () => {
    const schema = {
      columns: [
        column('a', 'jsonb'),
        column('b', 'longtext'),
        column('c', 'longtext'),
        column('d', 'any', 'ejson'),
      ],
      checks: [{ name: 'b', definition: 'CHECK (json_valid(`b`))' }],
    } as unknown as TableSchema
    const sides = { columns: ['a', 'b', 'c', 'd'] }
    expect(columnPairs(sides, sides, schema).map((p) => [p.name, p.json])).toEqual([
      ['a', 'json'],
      ['b', 'json'],
      ['c', null],
      ['d', 'ejson'],
    ])
  })
})

describe('jsonValuePatch', () => {
  it('patches down to the nested key', () => {
    expect(jsonValuePatch('{"a":{"b":[1,2]}}', '{"a":{"b":[1,3]},"c":true}', 'json')).toEqual([
      { op: 'replace', path: '/a/b/1', value: 3 },
      { op: 'add', path: '/c', value: true },
    ])
  })

  it('treats Extended JSON type wrappers as values: Int32 1 -> Double 1.0 replaces the field', () => {
    const before = '{"_id":{"$oid":"0123456789abcdef01234567"},"n":{"$numberInt":"1"}}'
    const after = '{"_id":{"$oid":"0123456789abcdef01234567"},"n":{"$numberDouble":"1.0"}}'
    expect(jsonValuePatch(before, after, 'ejson')).toEqual([
      { op: 'replace', path: '/n', value: { $numberDouble: '1.0' } },
    ])
  })

  it('gives no patch for text that is not JSON', () => {
    expect(jsonValuePatch('not json', '{}', 'json')).toBeUndefined()
    expect(jsonValuePatch(null, '{}', 'json')).toBeUndefined()
  })
})
