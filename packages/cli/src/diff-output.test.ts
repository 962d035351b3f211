import type { RowChange } from '@dbsnap/engine'
import { describe, expect, it } from 'vitest'
import { markdownCodeBlock, markdownText, rowLine } from './diff-output.js'

describe('rowLine', () => {
  const id = '{"$oid":"65a1b2c3d4e5f60718293a4b"}'
  const document = `{"_id":${id},"qty":{"$numberInt":"1"}}`

  it('shows MongoDB keys and documents as Extended JSON, not as quoted strings', () => {
    const added: RowChange = {
      table: 'orders',
      change: 'added',
      key: [id],
      new: [id, document],
    }
    expect(rowLine(added, 'mongodb')).toBe(`+ ${id} ${document}`)
    const modified: RowChange = {
      table: 'orders',
      change: 'modified',
      key: [id],
      old: [id, document],
      new: [id, document.replace('"1"', '"2"')],
      fields: [
        {
          column: 'document',
          old: document,
          new: document,
          patch: [{ op: 'replace', path: '/qty', value: { $numberInt: '2' } }],
        },
      ],
    }
    expect(rowLine(modified, 'mongodb')).toBe(`~ ${id} document: replace /qty {"$numberInt":"2"}`)
  })

  it('quotes SQL text values, so "1" and 1 read apart', () => {
    const change: RowChange = {
      table: 'public.items',
      change: 'modified',
      key: [7],
      old: [7, '1'],
      new: [7, '2'],
      fields: [{ column: 'code', old: '1', new: 2 }],
    }
    expect(rowLine(change, 'postgres')).toBe('~ 7 code: "1" → 2')
    expect(rowLine({ table: 't', change: 'removed', key: ['a'], old: ['a', null] })).toBe(
      '- "a" ["a",null]',
    )
  })
})

describe('markdownText and markdownCodeBlock', () => {
  it('escapes every character Markdown acts on, after making the text printable', () => {
    expect(markdownText('a|b *c* <img> `d` #1 @x $y$ ~z~ [l](u) &amp; \\')).toBe(
      'a\\|b \\*c\\* \\<img\\> \\`d\\` \\#1 \\@x \\$y\\$ \\~z\\~ \\[l\\](u) \\&amp; \\\\',
    )
    expect(markdownText('x\ny\u001b')).toBe('x\\\\ny\\\\u001b')
  })

  it('fences with one backtick more than the longest run inside, at least three', () => {
    expect(markdownCodeBlock(['+ 1 "a"'], 'diff')).toBe('```diff\n+ 1 "a"\n```')
    expect(markdownCodeBlock(['+ 1 "````"', '- 2 "`"'], 'diff')).toBe(
      '`````diff\n+ 1 "````"\n- 2 "`"\n`````',
    )
  })
})
