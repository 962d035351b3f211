import { describe, expect, it } from 'vitest'
import { isJsonDocument, linesOf, parseJsonValue, prettyJson } from './json-lines.ts'

describe('prettyJson', () => {
  it.each([
    [{ a: 1, b: [1, { c: null }], d: {}, e: [] }],
    [[]],
    ['text'],
    [42],
    [{ 'a/b': { '~k': [true, false] } }],
  ])('prints %j as JSON.stringify(value, null, 2) does', (value) => {
    expect(prettyJson(value).text).toBe(JSON.stringify(value, null, 2))
  })

  it('maps each JSON Pointer to the lines of its value', () => {
    const pretty = prettyJson({ tags: ['a'], nested: { version: 2 }, 'a/b': { '~': 1 } })
    const line = (n: number) => pretty.text.split('\n')[n - 1]
    expect(pretty.lines.get('')).toEqual({ start: 1, end: 11 })
    expect(pretty.lines.get('/tags')).toEqual({ start: 2, end: 4 })
    expect(line(pretty.lines.get('/tags/0')!.start)).toBe('    "a"')
    expect(line(pretty.lines.get('/nested/version')!.start)).toBe('    "version": 2')
    expect(line(pretty.lines.get('/a~1b/~0')!.start)).toBe('    "~": 1')
  })

  it('finds the nearest ancestor of a path the value lacks', () => {
    const pretty = prettyJson({ nested: { version: 1 } })
    expect(linesOf(pretty, '/nested/added')).toEqual(pretty.lines.get('/nested'))
    expect(linesOf(pretty, '/gone/deeper')).toEqual(pretty.lines.get(''))
  })
})

describe('stored values', () => {
  it('parses JSON text and leaves other values', () => {
    expect(parseJsonValue('{"a":1}')).toEqual({ a: 1 })
    expect(parseJsonValue('not json')).toBe('not json')
    expect(parseJsonValue(7)).toBe(7)
  })

  it('tells documents from scalars', () => {
    expect(isJsonDocument('{"$numberInt":"1"}')).toBe(true)
    expect(isJsonDocument('[1, 2]')).toBe(true)
    expect(isJsonDocument('"a"')).toBe(false)
    expect(isJsonDocument('[not json')).toBe(false)
    expect(isJsonDocument(12)).toBe(false)
  })
})
