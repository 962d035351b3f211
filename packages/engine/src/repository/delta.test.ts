import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyDelta as applyToBuffer, makeDelta, type KeyedLine } from './delta.js'

/** The content `script` makes of `base`, as text. */
const applyDelta = (base: string, script: string, what: string): string =>
  Buffer.concat(applyToBuffer(Buffer.from(base), script, what).pieces).toString()
const content = (rows: KeyedLine[]): string => rows.map((r) => `${r.line}\n`).join('')
const row = (key: number, value: string): KeyedLine => ({
  key: `[${key}]`,
  line: `[${key},"${value}"]`,
})

describe('makeDelta / applyDelta', () => {
  it.each([
    ['unchanged', [row(1, 'a'), row(2, 'b')], [row(1, 'a'), row(2, 'b')], '=2\n'],
    [
      'one update',
      [row(1, 'a'), row(2, 'b'), row(3, 'c')],
      [row(1, 'a'), row(2, 'B'), row(3, 'c')],
      '=1\n~1\n[2,"b"]\n+1\n[2,"B"]\n=1\n',
    ],
    [
      'insert in the middle',
      [row(1, 'a'), row(3, 'c')],
      [row(1, 'a'), row(2, 'b'), row(3, 'c')],
      '=1\n+1\n[2,"b"]\n=1\n',
    ],
    ['delete at the end', [row(1, 'a'), row(2, 'b')], [row(1, 'a')], '=1\n~1\n[2,"b"]\n'],
    ['everything new', [], [row(1, 'a')], '+1\n[1,"a"]\n'],
    ['everything gone', [row(1, 'a')], [], '~1\n[1,"a"]\n'],
  ])('%s', (_name, base, next, script) => {
    expect(makeDelta(base, next, Infinity)).toBe(script)
    expect(applyDelta(content(base), script, 'test')).toBe(content(next))
  })

  it('gives up when the script grows past the limit', () => {
    const base = Array.from({ length: 100 }, (_, i) => row(i, 'x'))
    const next = base.map((r, i) => row(i, `changed-${r.key}`))
    expect(makeDelta(base, next, 200)).toBeNull()
  })

  it('handles duplicate keys (tables without a primary key match whole rows)', () => {
    const dup = { key: 'same', line: 'same' }
    const base = [dup, dup, { key: 'z', line: 'z' }]
    const next = [dup, { key: 'z', line: 'z' }]
    const script = makeDelta(base, next, Infinity)!
    expect(applyDelta(content(base), script, 't')).toBe(content(next))
  })

  it('still reads the older `-n` op, which drops rows without carrying them', () => {
    expect(applyDelta('[1,"a"]\n[2,"b"]\n', '=1\n-1\n', 't')).toBe('[1,"a"]\n')
    // The rows it drops come back from the base, for the diff.
    expect(applyToBuffer(Buffer.from('[1,"a"]\n[2,"b"]\n'), '=1\n-1\n', 't').ops).toEqual([
      { op: '=', n: 1 },
      { op: '-', n: 1, lines: ['[2,"b"]'] },
    ])
  })

  it('rejects a base that does not end in a newline', () => {
    expect(() => applyDelta('[1,"a"]', '=1\n', 'chunk x')).toThrow(/does not end in a newline/)
  })

  it('rejects a script whose dropped rows are not its base', () => {
    expect(() => applyDelta('[1,"a"]\n', '~1\n[1,"x"]\n', 'chunk x')).toThrow(
      /drops rows its base does not hold/,
    )
    expect(() => applyDelta('[1,"a"]\n', '~1\n', 'chunk x')).toThrow(/inside dropped rows/)
  })

  it('rejects scripts that do not fit their base', () => {
    expect(() => applyDelta('a\n', '=2\n', 'chunk x')).toThrow(/chunk x is corrupt/)
    expect(() => applyDelta('a\n', '', 'chunk x')).toThrow(/unaccounted/)
    expect(() => applyDelta('a\n', '-1\n+2\nb\n', 'chunk x')).toThrow(/inside inserted rows/)
    expect(() => applyDelta('a\n', '?1\n', 'chunk x')).toThrow(/bad delta op/)
  })

  it('applyDelta(base, makeDelta(base, next)) is next, for any edit of sorted keys', () => {
    const table = fc
      .uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 60 })
      .chain((keys) =>
        fc.tuple(
          fc.constant([...keys].sort((a, b) => a - b)),
          fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.string({ maxLength: 4 })), {
            maxLength: 30,
          }),
        ),
      )
    fc.assert(
      fc.property(
        table,
        fc.uniqueArray(fc.integer({ min: 0, max: 200 })),
        ([keys, edits], removed) => {
          const base = keys.map((k) => row(k, 'v'))
          const map = new Map(base.map((r) => [r.key, r]))
          for (const [k, v] of edits) map.set(`[${k}]`, row(k, v.replace(/["\\\n]/g, '')))
          for (const k of removed) map.delete(`[${k}]`)
          const next = [...map.values()].sort(
            (a, b) => Number(a.key.slice(1, -1)) - Number(b.key.slice(1, -1)),
          )
          const script = makeDelta(base, next, Infinity)!
          expect(applyDelta(content(base), script, 't')).toBe(content(next))
        },
      ),
    )
  })
})
