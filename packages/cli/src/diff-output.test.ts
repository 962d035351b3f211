import { Writable } from 'node:stream'
import type { RowChange, SnapshotDiff } from '@dbsnap/engine'
import { describe, expect, it } from 'vitest'
import { markdownCodeBlock, markdownText, rowLine, writeNdjson } from './diff-output.js'

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

describe('writeNdjson', () => {
  /** A diff of `rows` added rows, counting how many the writer has pulled. */
  const bigDiff = (rows: number): { diff: SnapshotDiff; pulled: () => number } => {
    let pulled = 0
    const side = { name: 'shop', snapshot: 'a'.repeat(64), takenAt: '2026-01-01T00:00:00Z' }
    const diff = {
      format: 'dbsnap-diff',
      version: 1,
      from: side,
      to: side,
      schema: [],
      tables: [],
      // A plain generator: `for await` takes it, and it yields without awaiting anything.
      *rowChanges(): Generator<RowChange> {
        for (let i = 0; i < rows; i++) {
          pulled++
          yield { table: 'public.t', change: 'added', key: [i], new: [i, 'x'.repeat(100)] }
        }
      },
      summary: () => ({ equal: false }),
    } as unknown as SnapshotDiff
    return { diff, pulled: () => pulled }
  }

  it('reads rows only as fast as a slow reader takes them: a paused reader holds the diff back', async () => {
    const held: (() => void)[] = []
    let written = 0
    const out = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString().split('\n').length - 1
        held.push(done)
      },
    })
    const { diff, pulled } = bigDiff(100_000)
    let finished = false
    const writing = writeNdjson(diff, out).then(() => (finished = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    // The reader took nothing: the writer stopped once the stream's buffer was full.
    expect(finished).toBe(false)
    expect(pulled()).toBeLessThan(1000)
    expect(out.writableLength).toBeLessThan(1024 * 1024)
    // The reader reads on: everything arrives.
    while (!finished || out.writableLength > 0) {
      held.splice(0).forEach((done) => done())
      await new Promise((resolve) => setImmediate(resolve))
    }
    await writing
    // header, the rows, summary
    expect(written).toBe(100_002)
  })
})
