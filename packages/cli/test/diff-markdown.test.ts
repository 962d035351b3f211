// `dbsnap diff --format markdown` read by a real CommonMark renderer (markdown-it): names and
// values that look like Markdown or HTML render as text, and changes stay inside code blocks.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import MarkdownIt, { type Token } from 'markdown-it'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

/** A table name with every character Markdown or a table cell acts on, and a line break. */
const NAME = 'we|rd *x* <b>`y`\n# z'
const VALUES = ['<img src=x onerror=alert(1)>', '**x**', '```\n</pre><script>alert(1)</script>']

describe('dbsnap diff --format markdown (PostgreSQL)', () => {
  let db: TestDatabase
  let repo: string

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_diffmd')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-diffmd-'))
    const table = `"${NAME.replaceAll('"', '""')}"`
    await db.client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, "v*<i>" text)`)
    await db.client.query(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
    expect((await runCli(['snapshot', db.url, '--repo', repo, '--name', 'md'])).code).toBe(0)
    await db.client.query(`UPDATE ${table} SET "v*<i>" = $1 WHERE id = 1`, [VALUES[0]])
    await db.client.query(`DELETE FROM ${table} WHERE id = 2`)
    await db.client.query(`INSERT INTO ${table} VALUES (4, $1), (5, $2)`, VALUES.slice(1))
    expect((await runCli(['snapshot', db.url, '--repo', repo, '--name', 'md'])).code).toBe(0)
  })

  afterAll(async () => {
    await db?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it('renders names and values as text and every change inside a diff code block', async () => {
    const run = await runCli([
      'diff',
      'md@latest~1',
      'md@latest',
      '--repo',
      repo,
      '--format',
      'markdown',
    ])
    expect(run.code, run.stderr).toBe(0)
    // HTML allowed, as a permissive web view would: none may come from the diff.
    const md = new MarkdownIt({ html: true })
    const tokens = md.parse(run.stdout, {})
    const all = (list: Token[]): Token[] => list.flatMap((t) => [t, ...all(t.children ?? [])])
    const types = new Set(all(tokens).map((t) => t.type))
    for (const markup of ['html_block', 'html_inline', 'em_open', 'code_inline', 's_open'])
      expect(types, markup).not.toContain(markup)
    // The only emphasis is the summary's own.
    expect(all(tokens).filter((t) => t.type === 'strong_open')).toHaveLength(1)
    const html = md.render(run.stdout)
    expect(html).not.toMatch(/<(img|script|b|i)\b/)

    // The table's heading and its cell in the table of tables read as the name, line break escaped.
    const shown = `public."${NAME.replace('\n', '\\n')}"`
    const texts = (open: string): string[] =>
      tokens.flatMap((t, i) =>
        t.type === open ? [tokens[i + 1]!.children!.map((c) => c.content).join('')] : [],
      )
    expect(texts('heading_open')).toContain(shown)
    expect(texts('td_open')).toContain(shown)

    // Every change line is in a fenced `diff` block, verbatim.
    const fences = tokens.filter((t) => t.type === 'fence')
    expect(fences.every((f) => f.info === 'diff')).toBe(true)
    const code = fences.map((f) => f.content).join('')
    expect(code).toContain(`~ 1 v*<i>: "a" → ${JSON.stringify(VALUES[0])}`)
    expect(code).toContain('- 2 [2,"b"]')
    expect(code).toContain(`+ 4 [4,${JSON.stringify(VALUES[1])}]`)
    expect(code).toContain(`+ 5 [5,${JSON.stringify(VALUES[2])}]`)
    const outside = tokens.filter((t) => t.type === 'inline').map((t) => t.content)
    expect(outside.filter((line) => /^[-+~] \d/.test(line))).toEqual([])
  })

  it('chooses a fence longer than any backtick run in the block', async () => {
    const { markdownCodeBlock } = await import('../src/diff-output.js')
    const block = markdownCodeBlock(['+ 1 ["````"]', '- 2 ["`"]'], 'diff')
    const [fence] = new MarkdownIt().parse(block, {})
    expect(block.startsWith('`````diff\n')).toBe(true)
    expect(fence?.content).toBe('+ 1 ["````"]\n- 2 ["`"]\n')
  })
})
