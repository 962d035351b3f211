// `dbsnap diff` end to end on PostgreSQL: two snapshots around known changes, every output
// format, and `--exit-code` as a CI step uses it.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

interface DiffJson {
  format: string
  version: number
  summary: { equal: boolean; schemaChanges: number; rows: Record<string, number> }
  schema: { kind: string; change: string; object: string; from?: string }[]
  tables: { table: string; status: string; chunksRead: number; chunksSkipped: number }[]
  changes: {
    table: string
    change: string
    key: unknown[] | null
    fields?: { column: string; old: unknown; new: unknown; patch?: unknown[] }[]
  }[]
}

describe('dbsnap diff (PostgreSQL)', () => {
  let db: TestDatabase
  let repo: string
  const diff = (...args: string[]): ReturnType<typeof runCli> =>
    runCli(['diff', `${db.name}@latest~1`, `${db.name}@latest`, '--repo', repo, ...args])

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_diff')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-diff-'))
    await db.client.query(`
      CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, doc jsonb);
      INSERT INTO items
        SELECT g, 'item ' || g, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b'))
        FROM generate_series(1, 150000) g;
      CREATE TABLE untouched (id integer PRIMARY KEY);
      INSERT INTO untouched SELECT generate_series(1, 1000);
      CREATE TABLE log (line text);
      INSERT INTO log VALUES ('one'), ('two'), ('two');
    `)
    const first = await runCli(['snapshot', db.url, '--repo', repo, '--json'])
    expect(first.code, first.stderr).toBe(0)
    await db.client.query(`
      UPDATE items SET name = 'renamed' WHERE id = 500;
      UPDATE items SET doc = jsonb_set(doc, '{tags,1}', '"z"') WHERE id = 7777;
      DELETE FROM items WHERE id IN (3, 149999);
      INSERT INTO items VALUES (300000, 'new', NULL);
      DELETE FROM log WHERE ctid = (SELECT ctid FROM log WHERE line = 'two' LIMIT 1);
      CREATE INDEX items_name_idx ON items (name);
    `)
    const second = await runCli(['snapshot', db.url, '--repo', repo, '--json'])
    expect(second.code, second.stderr).toBe(0)
  })

  afterAll(async () => {
    await db?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it('reports exactly the changes, field by field, reading only the chunks that changed', async () => {
    const run = await diff('--json')
    expect(run.code, run.stderr).toBe(0)
    const result = json<DiffJson>(run)
    expect(result).toMatchObject({ format: 'dbsnap-diff', version: 1 })
    expect(result.schema.map((s) => `${s.change} ${s.kind} ${s.object}`)).toEqual([
      'added index public.items.items_name_idx',
    ])
    expect(result.changes.map((c) => `${c.table} ${c.change} ${JSON.stringify(c.key)}`)).toEqual([
      'public.items removed [3]',
      'public.items modified [500]',
      'public.items modified [7777]',
      'public.items removed [149999]',
      'public.items added [300000]',
      'public.log removed null',
    ])
    const byKey = (id: number): DiffJson['changes'][number] | undefined =>
      result.changes.find((c) => c.key?.[0] === id)
    expect(byKey(500)?.fields).toEqual([{ column: 'name', old: 'item 500', new: 'renamed' }])
    expect(byKey(7777)?.fields?.[0]).toMatchObject({
      column: 'doc',
      patch: [{ op: 'replace', path: '/tags/1', value: 'z' }],
    })
    const items = result.tables.find((t) => t.table === 'public.items')!
    // A changed chunk stored as a delta is read alone: its index entry proves it.
    expect(items.chunksSkipped).toBeGreaterThan(items.chunksRead)
    expect(result.tables.find((t) => t.table === 'public.untouched')).toMatchObject({
      status: 'unchanged',
      chunksRead: 0,
    })
    expect(result.summary).toMatchObject({
      equal: false,
      schemaChanges: 1,
      rows: { added: 1, removed: 3, modified: 2 },
    })
  })

  it('prints a readable report', async () => {
    const run = await diff()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('+ index public.items.items_name_idx')
    expect(run.stdout).toContain('~ 500 name: "item 500" → "renamed"')
    expect(run.stdout).toContain('~ 7777 doc: replace /tags/1 "z"')
    expect(run.stdout).not.toContain('public.untouched')
    expect(run.stdout).toContain('  1 table unchanged (-v lists them)')
    const verbose = await diff('-v')
    expect(verbose.stdout).toContain('public.untouched: unchanged')
    expect(verbose.stdout).not.toContain('table unchanged')
    expect(run.stdout).toContain('1 schema change, 2 tables with changed data, rows +1 -3 ~2')
  })

  it('streams NDJSON and writes Markdown', async () => {
    const ndjson = await diff('--format', 'ndjson')
    const lines = ndjson.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string })
    expect(lines[0]?.type).toBe('header')
    expect(lines.at(-1)).toMatchObject({ type: 'summary', equal: false })
    expect(lines.filter((l) => l.type === 'row')).toHaveLength(6)
    const markdown = await diff('--format', 'markdown', '--tables', 'items')
    expect(markdown.stdout).toContain('## Schema (1)')
    expect(markdown.stdout).toContain('| public.items | changed | 1 | 2 | 2 |')
    expect(markdown.stdout).not.toContain('public.log')
  })

  it('exits 1 on differences and 0 on none with --exit-code, and more on errors', async () => {
    expect((await diff('--exit-code')).code).toBe(1)
    const same = await runCli([
      'diff', `${db.name}@latest`, `${db.name}@latest`, '--repo', repo, '--exit-code',
    ]) // prettier-ignore
    expect(same.code).toBe(0)
    expect(same.stdout).toContain('no differences')
    const missing = await runCli([
      'diff',
      'abcd1234',
      `${db.name}@latest`,
      '--repo',
      repo,
      '--exit-code',
    ])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('SNAPSHOT_NOT_FOUND')
  })

  it('saves a diff and pages through it, filtered and searched, without recomputing', async () => {
    const saved = await diff('--save', '--json')
    expect(saved.code, saved.stderr).toBe(0)
    const { id } = json<{ id: string }>(saved)
    const listed = await runCli(['diffs', '--repo', repo, '--json'])
    expect(json<{ diffs: { id: string }[] }>(listed).diffs.map((d) => d.id)).toEqual([id])
    const page = async (...args: string[]): Promise<{ total: number | null; keys: unknown[] }> => {
      const run = await runCli(['diffs', id.slice(0, 8), '--repo', repo, '--json', ...args])
      expect(run.code, run.stderr).toBe(0)
      const result = json<{ total: number | null; changes: { key: unknown[] | null }[] }>(run)
      return { total: result.total, keys: result.changes.map((c) => c.key) }
    }
    expect(await page('--page-size', '2', '--page', '2')).toEqual({
      total: 6,
      keys: [[7777], [149999]],
    })
    expect(await page('--table', 'public.items', '--change', 'removed')).toEqual({
      total: 2,
      keys: [[3], [149999]],
    })
    expect(await page('--search', 'RENAMED')).toEqual({ total: null, keys: [[500]] })
    const text = await runCli(['diffs', id.slice(0, 8), '--repo', repo])
    expect(text.stdout).toContain('~ 500 name: "item 500" → "renamed"')
    expect(text.stdout).toContain('page 1 of 1 (6 changes)')
  })

  it('refuses a page past the last one as a usage error', async () => {
    const { id } = json<{ id: string }>(await diff('--save', '--json'))
    const beyond = await runCli(['diffs', id.slice(0, 8), '--repo', repo, '--page', '2'])
    expect(beyond.code).toBe(2)
    expect(beyond.stdout).toBe('')
    expect(beyond.stderr).toBe(
      'dbsnap: error [INVALID_ARGUMENT]: expected --page 1 to 1: the diff has 6 changes in pages of 100; got 2\n',
    )
    const search = ['diffs', id.slice(0, 8), '--repo', repo, '--search', 'renamed', '--json']
    expect((await runCli([...search, '--page', '2'])).code).toBe(2)
    expect((await runCli(search)).code).toBe(0)
  })

  it('diffs a snapshot against the live database exactly as against a snapshot of it', async () => {
    const snapshots = async (): Promise<number> =>
      json<{ snapshots: unknown[] }>(await runCli(['snapshots', '--repo', repo, '--json']))
        .snapshots.length
    const before = await snapshots()
    const stored = json<DiffJson>(await diff('--json'))
    const started = performance.now()
    const live = await runCli([
      'diff', `${db.name}@latest~1`, '--live', db.url, '--repo', repo, '--json',
      '--max-rows-per-second', '100000',
    ]) // prettier-ignore
    const seconds = (performance.now() - started) / 1000
    expect(live.code, live.stderr).toBe(0)
    const result = json<DiffJson & { to: { live?: string } }>(live)
    expect(result.changes).toEqual(stored.changes)
    expect(result.schema).toEqual(stored.schema)
    expect(result.summary).toEqual(stored.summary)
    expect(result.to.live).toContain(db.name)
    // 150,002 live rows at 100,000 a second take at least 1.5 s.
    expect(seconds).toBeGreaterThan(1.5)
    // The repository is left as it was.
    expect(await snapshots()).toBe(before)
    const both = await runCli(['diff', 'a', 'b', '--live', db.url, '--repo', repo])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('INVALID_ARGUMENT')
  })

  it('compares only the schema with --schema-only', async () => {
    const run = await diff('--schema-only', '--json')
    const result = json<DiffJson>(run)
    expect(result.changes).toEqual([])
    expect(result.tables).toEqual([])
    expect(result.summary).toMatchObject({ equal: false, schemaChanges: 1 })
  })
})
