// End-to-end: `dbsnap snapshot / snapshots / show / verify / forget / prune` on a real
// PostgreSQL and a local repository, run as a user runs them.

import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { spawn } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliArgs, json, runCli } from '../../../test/cli.js'
import { testServices, withDatabase } from '../../../test/services.js'

const dbName = `dbsnap_it_snap_${process.pid}_${randomBytes(3).toString('hex')}`

interface SnapshotJson {
  id: string
  name: string
  totals: {
    tables: number
    rows: number
    bytes: number
    chunks: number
    newObjects: number
    newBytes: number
    reusedChunks: number
  }
  tables: { table: string; rows: number; chunks: number; chunksNew: number; storedBytes: number }[]
}

interface VerifyJson {
  snapshots: number
  dataChunksRead: number
  problems: { object: string; code: string; message: string; snapshots: string[] }[]
}

describe('dbsnap snapshot (PostgreSQL, local repository)', () => {
  const { pgUrl } = testServices()
  const url = withDatabase(pgUrl, dbName)
  let admin: pg.Client
  let db: pg.Client
  let repo: string

  const snapshot = async (...extra: string[]): Promise<SnapshotJson> => {
    const run = await runCli(['snapshot', url, '--repo', repo, '--json', ...extra])
    expect(run.code, run.stderr).toBe(0)
    return json<SnapshotJson>(run)
  }
  let first: SnapshotJson
  const verify = async (
    at: string,
    ...extra: string[]
  ): Promise<{ code: number; result: VerifyJson }> => {
    const run = await runCli(['verify', '--repo', at, '--json', ...extra])
    return { code: run.code, result: json<VerifyJson>(run) }
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(`
      CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[], seen timestamptz);
      INSERT INTO items
        SELECT i, 'item ' || i || repeat('x', i % 50), (i * 1.25)::numeric(10,2),
               ARRAY['t' || (i % 7), NULL], '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute'
          FROM generate_series(1, 60000) i;
      CREATE SCHEMA sales;
      CREATE TABLE sales."Order Lines" (region text, n int, qty int, PRIMARY KEY (region, n));
      INSERT INTO sales."Order Lines" SELECT (ARRAY['eu','us','日本'])[1 + i % 3], i, i % 5 FROM generate_series(1, 3000) i;
      CREATE TABLE nokey (a int, b text);
      INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL);
      CREATE TABLE empty (id int PRIMARY KEY);
      ANALYZE;
    `)
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-repo-'))
  })

  afterAll(async () => {
    await db?.end()
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin?.end()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it('snapshots every table and lists the snapshot', async () => {
    first = await snapshot('--tag', 'env=test')
    expect(first.name).toBe(dbName)
    expect(first.totals.tables).toBe(4)
    expect(first.totals.rows).toBe(60000 + 3000 + 3)
    expect(first.totals.newObjects).toBeGreaterThan(first.totals.tables)
    const list = json<{ snapshots: { id: string; name: string; tags: Record<string, string> }[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    expect(list.snapshots.map((s) => s.id)).toEqual([first.id])
    expect(list.snapshots[0]?.tags).toEqual({ env: 'test' })
  })

  it('show returns exactly what SELECT … ORDER BY pk returns', async () => {
    const shown = json<{ columns: string[]; rows: unknown[][] }>(
      await runCli(['show', `${dbName}@latest`, '--repo', repo, '--table', 'items', '--json']),
    )
    expect(shown.columns).toEqual(['id', 'name', 'price', 'tags', 'seen'])
    await db.query(`SET TimeZone = 'UTC'`)
    const { rows } = await db.query<{
      id: string
      name: string
      price: string
      tags: string
      seen: string
    }>(`SELECT id::text, name, price::text, tags::text, seen::text FROM items ORDER BY items.id`)
    expect(shown.rows).toHaveLength(rows.length)
    expect(shown.rows).toEqual(rows.map((r) => [Number(r.id), r.name, r.price, r.tags, r.seen]))
    const composite = json<{ rows: unknown[][] }>(
      await runCli([
        'show',
        `${dbName}@latest`,
        '--repo',
        repo,
        '--table',
        'sales.Order Lines',
        '--key',
        '["日本",2]',
        '--json',
      ]),
    )
    expect(composite.rows).toEqual([['日本', 2, 2]])
    const nokey = json<{ rows: unknown[][] }>(
      await runCli(['show', `${dbName}@latest`, '--repo', repo, '--table', 'nokey', '--json']),
    )
    expect(nokey.rows).toEqual([
      [1, 'x'],
      [1, 'x'],
      [2, null],
    ])
  })

  it('an unchanged database writes no chunk, and 1% of rows changed writes little', async () => {
    const again = await snapshot()
    expect(again.totals.newObjects).toBe(0)
    expect(again.totals.reusedChunks).toBe(again.totals.chunks)
    await db.query(`UPDATE items SET price = price + 1 WHERE id % 100 = 7`)
    const changed = await snapshot()
    const items = changed.tables.find((t) => t.table === 'public.items')!
    const firstItems = first.tables.find((t) => t.table === 'public.items')!
    expect(items.chunksNew).toBeGreaterThan(0)
    // Every chunk of items changed, but only as deltas: far less than a full copy.
    expect(items.storedBytes).toBeLessThan(0.1 * firstItems.storedBytes)
  })

  it('resolves ids, prefixes and name@latest~N', async () => {
    const list = json<{ snapshots: { id: string }[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    const ids = list.snapshots.map((s) => s.id)
    const show = async (ref: string): Promise<string> =>
      json<{ id: string }>(await runCli(['show', ref, '--repo', repo, '--json'])).id
    expect(await show(`${dbName}@latest`)).toBe(ids.at(-1))
    expect(await show(`${dbName}@latest~1`)).toBe(ids.at(-2))
    expect(await show(url.replace(/\/[^/]*$/, `/${dbName}@latest~2`))).toBe(ids.at(-3))
    expect(await show(ids[0]!.slice(0, 10))).toBe(ids[0])
    const missing = await runCli(['show', `${dbName}@latest~99`, '--repo', repo])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^dbsnap: error \[SNAPSHOT_NOT_FOUND\]: /)
  })

  it('verify reads everything back cleanly', async () => {
    const { code, result } = await verify(repo, '--read-data-subset', '100%')
    expect(result.problems).toEqual([])
    expect(code).toBe(0)
    expect(result.dataChunksRead).toBeGreaterThan(4)
  })

  it('refuses an unknown table, naming it', async () => {
    const run = await runCli(['snapshot', url, '--repo', repo, '--tables', 'public.nope'])
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toBe(
      'dbsnap: error [TABLE_NOT_FOUND]: no table "public.nope" in the database',
    )
  })

  it('refuses a repository path it cannot write', async () => {
    const file = join(repo, '..', `not-a-dir-${process.pid}`)
    await writeFile(file, 'x')
    const run = await runCli(['snapshot', url, '--repo', join(file, 'repo')])
    await rm(file)
    expect(run.code).toBe(4)
    expect(run.stderr).toMatch(/^dbsnap: error \[STORAGE_[A-Z_]+\]: /)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('verify names a flipped byte in a chunk and in a manifest, and a deleted chunk', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'dbsnap-it-corrupt-'))
    try {
      await runCli(['snapshot', url, '--repo', copy, '--tables', 'items', '--json'])
      const objects = await listFiles(join(copy, 'chunks'))
      const sizes = await Promise.all(objects.map(async (f) => ({ f, size: (await stat(f)).size })))
      sizes.sort((a, b) => b.size - a.size)
      const [biggest, second] = [sizes[0]!.f, sizes[1]!.f]
      await flipByte(biggest)
      await rm(second)
      const [manifest] = await listFiles(join(copy, 'snapshots'))
      const before = await verify(copy, '--read-data-subset', '100%')
      const names = before.result.problems.map((p) => p.object)
      expect(before.code).toBe(5)
      expect(names).toContain(relative(copy, biggest))
      expect(names).toContain(relative(copy, second))
      expect(before.result.problems.every((p) => p.snapshots.length === 1)).toBe(true)
      await flipByte(manifest!)
      const after = await verify(copy)
      expect(after.code).toBe(5)
      expect(after.result.problems.map((p) => p.object)).toContain(relative(copy, manifest!))
      const text = await runCli(['verify', '--repo', copy])
      expect(text.stdout).toMatch(
        /\[DATA_CORRUPT\] snapshots\/[0-9a-f]{64}: snapshot [0-9a-f]{64} is corrupt/,
      )
    } finally {
      await rm(copy, { recursive: true, force: true })
    }
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'a snapshot interrupted by %s exits 130 and lists nothing new',
    async (signal) => {
      await db.query(`
        CREATE TABLE IF NOT EXISTS big AS
          SELECT i AS id, repeat(md5(i::text), 6) AS payload FROM generate_series(1, 400000) i;
        ALTER TABLE big DROP CONSTRAINT IF EXISTS big_pkey;
        ALTER TABLE big ADD PRIMARY KEY (id);
      `)
      const before = json<{ snapshots: unknown[] }>(
        await runCli(['snapshots', '--repo', repo, '--json']),
      )
      const child = spawn(
        process.execPath,
        cliArgs(['snapshot', url, '--repo', repo, '--tables', 'big', '--log-level', 'info']),
        {
          env: { ...process.env, NO_COLOR: '1', DBSNAP_LOG_FORMAT: 'json' },
        },
      )
      let stderr = ''
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString()
        // Interrupt once rows are flowing: after the read view is open.
        if (stderr.includes('snapshot starting') && !child.killed)
          setTimeout(() => child.kill(signal), 400)
      })
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      expect(code).toBe(130)
      expect(stderr).toContain(`dbsnap: error [ABORTED]: interrupted by ${signal}`)
      const after = json<{ snapshots: unknown[] }>(
        await runCli(['snapshots', '--repo', repo, '--json']),
      )
      expect(after.snapshots).toHaveLength(before.snapshots.length)
      await db.query('DROP TABLE big')
    },
  )

  it('a second signal ends an interrupted snapshot at once, and the lock it leaves is stale', async () => {
    await db.query(`
      CREATE TABLE big AS
        SELECT i AS id, repeat(md5(i::text), 6) AS payload FROM generate_series(1, 400000) i;
      ALTER TABLE big ADD PRIMARY KEY (id);
    `)
    const before = json<{ snapshots: unknown[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    const child = spawn(
      process.execPath,
      cliArgs(['snapshot', url, '--repo', repo, '--tables', 'big', '--log-level', 'info']),
      { env: { ...process.env, NO_COLOR: '1', DBSNAP_LOG_FORMAT: 'json' } },
    )
    let stderr = ''
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    // Once the snapshot holds its lock, the first signal starts the cleanup and the second cuts
    // it short. Two different signals, as the kernel merges two of one kind still pending.
    while ((await readdir(join(repo, 'locks'))).length === 0) await delay(20)
    child.kill('SIGINT')
    child.kill('SIGTERM')
    const code = await closed
    expect(code, stderr).toBe(130)
    // Both signals are pending at once: Node may run their handlers in either order.
    expect(stderr).toMatch(
      /dbsnap: error \[ABORTED\]: interrupted again by SIG(TERM|INT); stopped without cleanup/,
    )
    const after = json<{ snapshots: unknown[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    expect(after.snapshots).toHaveLength(before.snapshots.length)
    // Its lock is left behind, stale at once: its process is gone (unless the first signal's
    // cleanup had already released it). The next test takes an exclusive lock in the same
    // repository.
    expect((await readdir(join(repo, 'locks'))).length).toBeLessThanOrEqual(1)
    await db.query('DROP TABLE big')
  })

  it('forget keeps what the policy says and prune frees the rest', async () => {
    const dry = json<{ snapshots: { keep: boolean }[] }>(
      await runCli(['forget', '--repo', repo, '--keep-last', '1', '--dry-run', '--json']),
    )
    expect(dry.snapshots.filter((s) => s.keep)).toHaveLength(1)
    expect((await runCli(['snapshots', '--repo', repo, '--json'])).stdout).toContain(dbName)
    const done = json<{ snapshots: { keep: boolean }[]; prune: { objectsDeleted: number } }>(
      await runCli([
        'forget',
        '--repo',
        repo,
        '--keep-last',
        '1',
        '--prune',
        '--grace',
        '0s',
        '--json',
      ]),
    )
    expect(done.prune.objectsDeleted).toBeGreaterThan(0)
    const list = json<{ snapshots: unknown[] }>(
      await runCli(['snapshots', '--repo', repo, '--json']),
    )
    expect(list.snapshots).toHaveLength(1)
    const { result } = await verify(repo, '--read-data-subset', '100%')
    expect(result.problems).toEqual([])
  })
})

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name))
  }
  return out
}

async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file)
  const at = Math.floor(bytes.length / 2)
  bytes[at] = bytes[at]! ^ 0xff
  await writeFile(file, bytes)
}

function relative(root: string, file: string): string {
  return file.slice(root.length + 1)
}
