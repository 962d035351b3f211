// COPY TEXT parsing: every escape of the format, rows and characters split across chunks, and a
// property test that parse(any chunking of COPY's encoding of rows) gives the rows back.

import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CopyTextParser,
  copyTextField,
  copyTextLine,
  parseCopyText,
  type CopyTextRow,
} from './postgres-copy.js'

/** Feeds `input` to a parser cut at `cuts` (byte offsets) and returns every row. */
function parse(input: Buffer | string, cuts: number[] = [], fieldCount?: number): CopyTextRow[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input
  const parser = new CopyTextParser(fieldCount === undefined ? {} : { fieldCount })
  const rows: CopyTextRow[] = []
  let from = 0
  for (const cut of [...cuts, buf.length]) {
    rows.push(...parser.push(buf.subarray(from, cut)))
    from = cut
  }
  parser.end()
  return rows
}

describe('CopyTextParser', () => {
  it.each<[string, string, CopyTextRow[]]>([
    ['one row', '1\tabc\n', [['1', 'abc']]],
    [
      'several rows',
      '1\ta\n2\tb\n3\tc\n',
      [
        ['1', 'a'],
        ['2', 'b'],
        ['3', 'c'],
      ],
    ],
    ['NULL', '1\t\\N\n', [['1', null]]],
    ['NULL first and last', '\\N\tx\t\\N\n', [[null, 'x', null]]],
    ['empty strings', '\t\t\n', [['', '', '']]],
    ['one column', 'a\nb\n\n', [['a'], ['b'], ['']]],
    ['escaped backslash', 'a\\\\b\n', [['a\\b']]],
    ['the text \\N, escaped', '\\\\N\n', [['\\N']]],
    ['\\N inside a field is N', 'a\\Nb\t\\Nx\n', [['aNb', 'Nx']]],
    ['letter escapes', '\\b\\f\\n\\r\\t\\v\n', [['\b\f\n\r\t\v']]],
    ['escapes between text', 'x\\ty\\nz\tq\\\\\n', [['x\ty\nz', 'q\\']]],
    ['any other escaped character is itself', '\\q\\.\\"\\é\n', [['q."é']]],
    ['octal, one to three digits', '\\101\\7\\12x\n', [['A\u0007\nx']]],
    ['octal stops after three digits', '\\1011\n', [['A1']]],
    ['octal wraps at 256 like PostgreSQL', '\\501\n', [['A']]],
    ['octal bytes forming UTF-8', '\\303\\251t\\303\\251\n', [['été']]],
    ['hex, one or two digits', '\\x41\\x4g\\x4A\n', [['A\u0004gJ']]],
    ['hex stops after two digits', '\\x414\n', [['A4']]],
    ['\\x without a hex digit is x', '\\xg\\x\n', [['xgx']]],
    ['hex bytes forming an emoji', '\\xF0\\x9F\\x98\\x80!\n', [['😀!']]],
    ['escaped bytes mixed with plain text', 'a\\303\\251b\\tc\n', [['aéb\tc']]],
    ['backslash + tab is a data tab', 'a\\\tb\tc\n', [['a\tb', 'c']]],
    [
      'backslash + LF is a data newline',
      'a\\\nb\tc\nd\te\n',
      [
        ['a\nb', 'c'],
        ['d', 'e'],
      ],
    ],
    ['unicode', 'ü\t日本語\t😀\u200d\n', [['ü', '日本語', '😀\u200d']]],
    ['fields after an escaped one', 'a\\tb\tplain\t\\N\tend\n', [['a\tb', 'plain', null, 'end']]],
    [
      'a row after an escaped row',
      'a\\\\\tb\nc\td\n',
      [
        ['a\\', 'b'],
        ['c', 'd'],
      ],
    ],
  ])('%s', (_name, input, expected) => {
    expect(parse(input)).toEqual(expected)
  })

  it('reads empty lines as rows of no columns when there are no columns', () => {
    expect(parse('\n\n\n', [], 0)).toEqual([[], [], []])
  })

  it('rejects a row with the wrong number of fields', () => {
    expect(() => parse('1\t2\n1\n', [], 2)).toThrow(/row 2 has 1 fields, expected 2/)
    expect(() => parse('1\t2\n1\n', [], 2)).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
  })

  it('rejects input that ends inside a row', () => {
    expect(() => parse('1\t2\n3\t')).toThrow(/ended inside a row/)
    expect(() => parse('1\t2\n3\t')).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
    expect(() => parse('a\\\n')).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
  })

  it('keeps a leading U+FEFF of a field with escapes, as any other character', () => {
    // The server sends E'\uFEFF\tx' with the mark's own bytes; written as octal escapes (as any
    // COPY text may), a TextDecoder dropped the leading mark (fast-check, seed 1262343731).
    expect(parse('\ufeff\\tx\n')).toEqual([['\ufeff\tx']])
    expect(parse('\\357\\273\\277\n')).toEqual([['\ufeff']])
    expect(parse('\\N\t\\357\\273\\277x\\\\\n')).toEqual([[null, '\ufeffx\\']])
  })

  it('rejects escaped bytes that are not UTF-8', () => {
    expect(() => parse('\\xff\n')).toThrow(expect.objectContaining({ code: 'DATA_CORRUPT' }))
  })

  it('gives the same rows for every two-way split, through characters and escapes', () => {
    const input = Buffer.from(
      'ü1\t😀x\\t\\\\\t\\N\n\\303\\251\ta\\\nb\t\n日本\t\\x41\t\\N\n',
      'utf8',
    )
    const whole = parse(input)
    expect(whole).toEqual([
      ['ü1', '😀x\t\\', null],
      ['é', 'a\nb', ''],
      ['日本', 'A', null],
    ])
    for (let cut = 0; cut <= input.length; cut++) {
      expect(parse(input, [cut]), `cut at ${cut}`).toEqual(whole)
    }
    const everyByte = Array.from({ length: input.length }, (_, i) => i)
    expect(parse(input, everyByte)).toEqual(whole)
  })

  it('takes Uint8Arrays that are not Buffers and counts rows', () => {
    const parser = new CopyTextParser()
    const bytes = new TextEncoder().encode('a\tb\nc\td\n')
    expect(parser.push(bytes.subarray(0, 5))).toEqual([['a', 'b']])
    expect(parser.push(bytes.subarray(5))).toEqual([['c', 'd']])
    expect(parser.rowsParsed).toBe(2)
  })

  it('keeps a row spread over many chunks without a newline', () => {
    const big = 'x'.repeat(100_000)
    const input = Buffer.from(`${big}\t${big}\n`)
    const cuts = Array.from({ length: 50 }, (_, i) => (i + 1) * 4001)
    expect(parse(input, cuts)).toEqual([[big, big]])
  })
})

describe('parseCopyText', () => {
  it('yields the rows each chunk completes', async () => {
    const chunks = Readable.from([
      Buffer.from('1\ta\n2\t'),
      Buffer.from('b\n'),
      Buffer.from('3\t\\N\n'),
    ])
    const batches: CopyTextRow[][] = []
    for await (const rows of parseCopyText(chunks, { fieldCount: 2 })) batches.push(rows)
    expect(batches).toEqual([[['1', 'a']], [['2', 'b']], [['3', null]]])
  })
})

describe('copyTextField', () => {
  it.each<[string | null, string]>([
    [null, '\\N'],
    ['', ''],
    ['\\N', '\\\\N'],
    ['a\tb\nc\rd\\e', 'a\\tb\\nc\\rd\\\\e'],
    ['\b\f\v', '\\b\\f\\v'],
    ['é😀', 'é😀'],
  ])('%j -> %j', (value, text) => {
    expect(copyTextField(value)).toBe(text)
  })
})

/** Characters that exercise the format, mixed into arbitrary Unicode text. */
const tricky = fc.constantFrom(
  '\t',
  '\n',
  '\r',
  '\\',
  '\\N',
  'N',
  '\b',
  '\f',
  '\v',
  '\0',
  'é',
  '日本',
  '😀',
  '\u{10FFFF}',
  ' ',
)
const text = fc
  .array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 12 })
  .map((parts) => parts.join(''))
const rowsOf = (columns: number): fc.Arbitrary<CopyTextRow[]> =>
  fc.array(fc.array(fc.option(text, { freq: 5 }), { minLength: columns, maxLength: columns }), {
    maxLength: 20,
  })
const table = fc
  .integer({ min: 1, max: 6 })
  .chain((columns) => fc.record({ columns: fc.constant(columns), rows: rowsOf(columns) }))
const cutsFor = (length: number): fc.Arbitrary<number[]> =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 12 })
    .map((cuts) => cuts.sort((a, b) => a - b))

/**
 * Another valid COPY TEXT encoding of a field: each character written as itself, its letter
 * escape, `\` + itself, or its UTF-8 bytes in octal or hex, chosen by `choice`. Octal and hex
 * always take their full width, else a following digit would extend them.
 */
function encodeOddly(value: string | null, choice: number[]): string {
  if (value === null) return '\\N'
  let out = ''
  let k = 0
  for (const ch of value) {
    const pick = (choice[k++ % Math.max(choice.length, 1)] ?? 0) % 4
    const bytes = [...Buffer.from(ch, 'utf8')]
    const mustEscape = ch === '\t' || ch === '\n' || ch === '\\' || ch === '\r'
    if (pick === 1) out += bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')
    else if (pick === 2) out += bytes.map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
    else if (pick === 3 && !/[0-7xbfnrtvN]/.test(ch)) out += `\\${ch}`
    else out += mustEscape ? copyTextField(ch) : ch
  }
  return out
}

describe('property: parse(encode(rows)) == rows', () => {
  it('for COPY TO encoding, in any chunking', () => {
    fc.assert(
      fc.property(
        table.chain((t) => {
          const bytes = Buffer.from(t.rows.map(copyTextLine).join(''), 'utf8')
          return fc.record({
            t: fc.constant(t),
            bytes: fc.constant(bytes),
            cuts: cutsFor(bytes.length),
          })
        }),
        ({ t, bytes, cuts }) => {
          expect(parse(bytes, cuts, t.columns)).toEqual(t.rows)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('for any valid escaping (octal, hex, redundant backslashes), in any chunking', () => {
    fc.assert(
      fc.property(
        table.chain((t) =>
          fc.array(fc.nat(), { minLength: 1, maxLength: 16 }).chain((choice) => {
            const lines = t.rows.map(
              (row) => `${row.map((v) => encodeOddly(v, choice)).join('\t')}\n`,
            )
            const bytes = Buffer.from(lines.join(''), 'utf8')
            return fc.record({
              t: fc.constant(t),
              bytes: fc.constant(bytes),
              cuts: cutsFor(bytes.length),
            })
          }),
        ),
        ({ t, bytes, cuts }) => {
          expect(parse(bytes, cuts, t.columns)).toEqual(t.rows)
        },
      ),
      { numRuns: 500 },
    )
  })
})
