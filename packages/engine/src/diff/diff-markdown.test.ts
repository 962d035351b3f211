import { describe, expect, it } from 'vitest'
import type { RowChange } from './diff-format.js'
import { diffMarkdown, type MarkdownDiff, type MarkdownTable } from './diff-markdown.js'
import { summarize } from './diff.js'

/** A diff of `counts` added rows per table, counting the rows the renderer pulled. */
function diffOf(counts: Record<string, number>, cost = true) {
  let pulled = 0
  const tables: MarkdownTable[] = Object.entries(counts).map(([table, added]) => ({
    table,
    status: 'changed',
    added,
    removed: 0,
    modified: 0,
    ...(cost ? { chunksRead: 1, chunksSkipped: 2 } : {}),
  }))
  const side = { snapshot: 'a'.repeat(64), name: 'shop', takenAt: '2026-12-01T00:00:00.000Z' }
  const diff: MarkdownDiff = {
    from: side,
    to: { ...side, snapshot: 'b'.repeat(64) },
    schema: [],
    tables,
    // A plain generator: `for await` takes it.
    *rowChanges(): Generator<RowChange> {
      for (const [table, n] of Object.entries(counts)) {
        for (let i = 0; i < n; i++) {
          pulled++
          yield { table, change: 'added', key: [i], new: [i, `v${i}`] }
        }
      }
    },
    summary: () =>
      summarize(
        [],
        tables.map((t) => ({ ...t, rowsBefore: 0, rowsAfter: 0, chunksRead: 0, chunksSkipped: 0 })),
      ),
  }
  return { diff, pulled: () => pulled }
}

async function render(diff: MarkdownDiff, options = {}): Promise<string> {
  const blocks: string[] = []
  for await (const block of diffMarkdown(diff, options)) blocks.push(block)
  return blocks.join('\n')
}

describe('diffMarkdown', () => {
  it('stops reading rows at maxChanges and counts what it left out', async () => {
    const { diff, pulled } = diffOf({ 'public.a': 3, 'public.b': 5, 'public.c': 4 })
    const text = await render(diff, { maxChanges: 5 })
    expect(text).toContain('### public.a\n\n```diff\n+ 0 [0,"v0"]\n+ 1 [1,"v1"]\n+ 2 [2,"v2"]\n```')
    expect(text).toContain('### public.b\n\n```diff\n+ 0 [0,"v0"]\n+ 1 [1,"v1"]\n… 3 more\n```')
    expect(text).not.toContain('### public.c')
    expect(text).toContain('… 4 more changes not shown')
    // The cap is reached on b's third row: neither the rest of b nor c is read.
    expect(pulled()).toBe(6)
  })

  it('limits rows per table and keeps reading the next tables', async () => {
    const { diff, pulled } = diffOf({ 'public.a': 3, 'public.b': 2 })
    const text = await render(diff, { limit: 1 })
    expect(text).toContain('+ 0 [0,"v0"]\n… 2 more')
    expect(text).toContain('### public.b')
    expect(text).not.toContain('not shown')
    expect(pulled()).toBe(5)
  })

  it('leaves the "chunks read" column out for tables without their cost', async () => {
    const withCost = await render(diffOf({ 'public.a': 1 }).diff)
    expect(withCost).toContain('| public.a | changed | 1 | 0 | 0 | 1/3 |')
    const without = await render(diffOf({ 'public.a': 1 }, false).diff)
    expect(without).toContain('| table | status | added | removed | modified |\n')
    expect(without).toContain('| public.a | changed | 1 | 0 | 0 |\n')
  })

  it('puts notes after the snapshots line and ends with the summary', async () => {
    const text = await render(diffOf({ 'public.a': 1 }).diff, { notes: ['Filtered: \\*x\\*'] })
    expect(text).toMatch(/^# Diff of shop\n\nSnapshots: .*\n\nFiltered: \\\*x\\\*\n/)
    expect(text.endsWith('**1 table with changed data, rows +1 -0 \\~0**')).toBe(true)
  })
})
