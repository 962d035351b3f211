// `runJob`, the one entry point of every engine operation: each kind runs from a plain-JSON spec
// and returns a JSON result; events share one envelope, are cumulative and rate-bounded; a job
// runs in this thread when it is bounded and in a worker otherwise; an abort stops either; and
// every operation that reads or writes the repository holds a lock that `prune` respects.
// Runs the built engine: the worker loads dist/.

import { readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  EVENT_INTERVAL_MS,
  runJob,
  youngGenerationBounded,
  type JobEvent,
  type JobSpec,
} from '../dist/index.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

let db: TestDatabase
let target: TestDatabase
let dir: string
let repo: string
/** The first two snapshots: 10 rows modified and 1 removed between them. */
let ids: [string, string]
const nodeOptions = process.env.NODE_OPTIONS
const bounded = (): void => {
  process.env.NODE_OPTIONS = '--max-semi-space-size=8'
}

beforeAll(async () => {
  db = await createTestDatabase('dbsnap_run_job')
  target = await createTestDatabase('dbsnap_run_job_target')
  await db.client.query(`
    CREATE TABLE t (id int PRIMARY KEY, v text);
    INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 5000) i;
    CREATE TABLE u (id int PRIMARY KEY, n int);
    INSERT INTO u SELECT i, i FROM generate_series(1, 300) i;
  `)
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-run-job-'))
  repo = join(dir, 'repo')
  bounded()
  const first = await runJob({
    kind: 'snapshot',
    repository: repo,
    create: true,
    source: db.url,
    name: 'app',
  })
  await db.client.query(`UPDATE u SET n = n + 1 WHERE id <= 10; DELETE FROM t WHERE id = 7`)
  const second = await runJob({ kind: 'snapshot', repository: repo, source: db.url, name: 'app' })
  ids = [first.id, second.id]
})

afterAll(async () => {
  await db.drop()
  await target.drop()
  await rm(dir, { recursive: true, force: true })
})

afterEach(() => {
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = nodeOptions
})

/** Runs a job and tells whether its events came from this thread's own call stack. */
async function runOnce(
  spec: JobSpec,
  signal?: AbortSignal,
): Promise<{ result: unknown; here: boolean; events: JobEvent[] }> {
  let here: boolean | undefined
  const events: JobEvent[] = []
  const result = await runJob(spec, {
    signal,
    onEvent: (event) => {
      here ??= new Error().stack?.includes('executeJob') === true
      events.push(event)
    },
  })
  return { result, here: here === true, events }
}

describe('youngGenerationBounded', () => {
  it('is true only with --max-semi-space-size of at most 8 MiB', () => {
    process.env.NODE_OPTIONS = ''
    expect(youngGenerationBounded()).toBe(false)
    process.env.NODE_OPTIONS = '--max-semi-space-size=8'
    expect(youngGenerationBounded()).toBe(true)
    process.env.NODE_OPTIONS = '--max-semi-space-size=4 --max-semi-space-size=64'
    expect(youngGenerationBounded()).toBe(false)
    process.env.NODE_OPTIONS = '--max_semi_space_size=2'
    expect(youngGenerationBounded()).toBe(true)
  })
})

describe('runJob: where it runs', () => {
  it('runs in a worker thread when this one is not bounded, in this thread when it is', async () => {
    process.env.NODE_OPTIONS = ''
    const spec = (name: string): JobSpec => ({
      kind: 'snapshot',
      repository: join(dir, name),
      create: true,
      source: db.url,
    })
    const inWorker = await runOnce(spec('worker'))
    expect(inWorker.here).toBe(false)
    bounded()
    const inline = await runOnce(spec('inline'))
    expect(inline.here).toBe(true)
    // The same rows make the same chunks wherever they were read.
    const totals = (r: unknown): unknown => (r as { totals: unknown }).totals
    expect(totals(inline.result)).toEqual(totals(inWorker.result))
    // The worker relays the same envelope.
    expect(inWorker.events.at(-1)).toMatchObject({ kind: 'snapshot', phase: 'done', unit: 'rows' })
    expect(inWorker.events.at(-1)!.done).toBe(5299)
  })

  it('runs any kind in a worker: verify', async () => {
    process.env.NODE_OPTIONS = ''
    const { result, here } = await runOnce({ kind: 'verify', repository: repo })
    expect(here).toBe(false)
    expect(result).toMatchObject({ snapshots: 2, problems: [] })
  })

  it.each([
    ['a worker thread', ''],
    ['this thread', '--max-semi-space-size=8'],
  ])('in %s: an aborted signal ends it with ABORTED', async (_, options) => {
    process.env.NODE_OPTIONS = options
    const controller = new AbortController()
    controller.abort()
    await expect(
      runOnce(
        { kind: 'snapshot', repository: join(dir, 'aborted'), create: true, source: db.url },
        controller.signal,
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' })
  })
})

describe('runJob: specs', () => {
  it.each([
    [{ kind: 'snapshot', repository: 'r' }, 'source'],
    [{ kind: 'snapshot', repository: 'r', source: 'postgres://h/d', name: 'a b' }, 'name'],
    [
      { kind: 'snapshot', repository: 'r', source: 'postgres://h/d', compression: 'lz9' },
      'compression',
    ],
    [{ kind: 'diff', repository: 'r', from: 'a' }, 'either `to`'],
    [{ kind: 'diff', repository: 'r', from: 'a', to: 'b', live: 'postgres://h/d' }, 'either `to`'],
    [
      { kind: 'restore', repository: 'r', snapshot: 'a', target: 'x', onConflict: 'skip' },
      'mode append',
    ],
    [{ kind: 'verify', repository: 'r', readDataSubset: '200%' }, 'readDataSubset'],
    [{ kind: 'prune', repository: 'r', grace: 'soon' }, 'grace'],
    [{ kind: 'export', repository: 'r', snapshot: 'a', format: 'csv' }, 'format'],
    [
      { kind: 'export', repository: 'r', snapshot: 'a', format: 'ndjson', dialect: 'mysql' },
      'dialect',
    ],
    [{ kind: 'verify', repository: 'r', extra: 1 }, 'extra'],
    [{ kind: 'launch', repository: 'r' }, 'kind'],
    [{ kind: 'verify', repository: '' }, 'repository'],
  ])('refuses %j with INVALID_ARGUMENT naming %s', async (spec, field) => {
    const error = await runJob(spec as JobSpec).catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((error as Error).message).toContain(field)
  })
})

describe('runJob: every kind, one envelope', () => {
  const specs = (): [string, JobSpec][] => [
    ['snapshot', { kind: 'snapshot', repository: repo, source: db.url, name: 'app' }],
    ['diff', { kind: 'diff', repository: repo, from: 'app@latest~1', to: 'app@latest' }],
    ['diff --live', { kind: 'diff', repository: repo, from: 'app@latest', live: db.url }],
    [
      'diff --save',
      { kind: 'diff', repository: repo, from: 'app@latest~1', to: 'app@latest', save: true },
    ],
    ['verify', { kind: 'verify', repository: repo, readDataSubset: '100%' }],
    [
      'restore',
      {
        kind: 'restore',
        repository: repo,
        snapshot: 'app@latest',
        target: target.url,
        force: true,
      },
    ],
    [
      'restore --only-changed',
      {
        kind: 'restore',
        repository: repo,
        snapshot: 'app@latest~1',
        target: target.url,
        onlyChanged: true,
      },
    ],
    [
      'export',
      {
        kind: 'export',
        repository: repo,
        snapshot: 'app@latest',
        format: 'ndjson',
        out: join(dir, 'out.ndjson'),
      },
    ],
    [
      'forget --dry-run',
      { kind: 'forget', repository: repo, policy: { keepLast: 1 }, dryRun: true },
    ],
    ['prune --dry-run', { kind: 'prune', repository: repo, dryRun: true }],
  ]

  const names = [
    'snapshot',
    'diff',
    'diff --live',
    'diff --save',
    'verify',
    'restore',
    'restore --only-changed',
    'export',
    'forget --dry-run',
    'prune --dry-run',
  ]

  it.each(names.map((name) => [name]))(
    '%s: JSON result, cumulative events, the last done',
    async (name) => {
      bounded()
      const spec = specs().find(([n]) => n === name)![1]
      const started = performance.now()
      const { result, events } = await runOnce(spec)
      const elapsed = performance.now() - started
      expect(JSON.parse(JSON.stringify(result))).toEqual(result)
      expect(events.length).toBeGreaterThanOrEqual(2)
      expect(events[0]).toMatchObject({ kind: spec.kind, phase: 'starting' })
      expect(events.at(-1)).toMatchObject({ kind: spec.kind, phase: 'done', table: null })
      for (const event of events) {
        expect(Object.keys(event).sort()).toEqual(
          ['counters', 'done', 'elapsedMs', 'kind', 'phase', 'table', 'total', 'unit'].sort(),
        )
      }
      // Cumulative: within one unit, `done` and every counter only grow.
      for (const [previous, event] of events.slice(1).map((e, i) => [events[i]!, e] as const)) {
        if (previous.unit !== event.unit) continue
        expect(event.done).toBeGreaterThanOrEqual(previous.done)
        for (const [counter, value] of Object.entries(previous.counters)) {
          expect(event.counters[counter] ?? 0).toBeGreaterThanOrEqual(value)
        }
      }
      // Bounded rate: besides phase and table changes, at most one per interval.
      const steady = events.filter(
        (e, i) => i > 0 && e.phase === events[i - 1]!.phase && e.table === events[i - 1]!.table,
      )
      expect(steady.length).toBeLessThanOrEqual(Math.ceil(elapsed / EVENT_INTERVAL_MS) + 1)
    },
  )

  it('a snapshot reports its rows, a restore its rows written, against their totals', async () => {
    bounded()
    const snapshot = await runOnce({
      kind: 'snapshot',
      repository: repo,
      source: db.url,
      name: 'app',
    })
    expect(snapshot.events.at(-1)).toMatchObject({ done: 5299, unit: 'rows' })
    expect(snapshot.events.at(-1)!.counters).toMatchObject({ tables: 2, tablesDone: 2 })
    const restore = await runOnce({
      kind: 'restore',
      repository: repo,
      snapshot: 'app@latest',
      target: target.url,
      force: true,
    })
    expect(restore.events.at(-1)).toMatchObject({ done: 5299, total: 5299, unit: 'rows' })
    expect(restore.events.at(-1)!.counters).toMatchObject({ inserted: 5299, tablesDone: 2 })
  })

  it('a diff counts its changes by kind', async () => {
    bounded()
    const { result, events } = await runOnce({
      kind: 'diff',
      repository: repo,
      from: ids[0],
      to: ids[1],
    })
    expect(events.at(-1)).toMatchObject({ done: 11, unit: 'changes' })
    expect(events.at(-1)!.counters).toMatchObject({ removed: 1, modified: 10 })
    expect(result).toMatchObject({ summary: { equal: false }, saved: null })
  })
})

describe('runJob: locks', () => {
  /** A lock object as another process's prune (exclusive) or verify (shared) writes it. */
  async function holdLock(
    kind: 'shared' | 'exclusive',
    operation: string,
  ): Promise<() => Promise<void>> {
    const key = join(repo, 'locks', `${Date.now().toString(36)}-test${kind}`)
    await mkdir(join(repo, 'locks'), { recursive: true })
    const now = new Date().toISOString()
    await writeFile(
      key,
      JSON.stringify({
        kind,
        operation,
        hostname: hostname(),
        pid: process.pid,
        createdAt: now,
        refreshedAt: now,
      }),
    )
    return () => rm(key, { force: true })
  }

  it.each([
    ['snapshot', { kind: 'snapshot', repository: '', source: '', name: 'app' }],
    ['verify', { kind: 'verify', repository: '' }],
    [
      'restore',
      { kind: 'restore', repository: '', snapshot: 'app@latest', target: '', force: true },
    ],
    [
      'restore --only-changed',
      { kind: 'restore', repository: '', snapshot: 'app@latest', target: '', onlyChanged: true },
    ],
    ['export', { kind: 'export', repository: '', snapshot: 'app@latest', format: 'sql', out: '' }],
    [
      'diff --save',
      { kind: 'diff', repository: '', from: 'app@latest~1', to: 'app@latest', save: true },
    ],
    ['forget', { kind: 'forget', repository: '', policy: { keepLast: 100 } }],
  ])('%s refuses to run while a prune holds the repository', async (_, template) => {
    bounded()
    const spec = JSON.parse(
      JSON.stringify(template)
        .replaceAll('"repository":""', `"repository":${JSON.stringify(repo)}`)
        .replaceAll('"source":""', `"source":${JSON.stringify(db.url)}`)
        .replaceAll('"target":""', `"target":${JSON.stringify(target.url)}`)
        .replaceAll('"out":""', `"out":${JSON.stringify(join(dir, 'locked.sql'))}`),
    ) as JobSpec
    const release = await holdLock('exclusive', 'prune')
    try {
      await expect(runJob(spec)).rejects.toMatchObject({
        code: 'REPOSITORY_LOCKED',
        retryable: true,
      })
    } finally {
      await release()
    }
  })

  it.each([
    ['verify', { kind: 'verify', repository: '', readDataSubset: '100%' }],
    [
      'export',
      { kind: 'export', repository: '', snapshot: 'app@latest', format: 'ndjson', out: '' },
    ],
    ['diff', { kind: 'diff', repository: '', from: 'ID0', to: 'ID1', save: true }],
    [
      'restore',
      { kind: 'restore', repository: '', snapshot: 'app@latest', target: '', force: true },
    ],
  ])('%s holds a shared lock while it runs (which prune respects)', async (operation, template) => {
    bounded()
    const spec = JSON.parse(
      JSON.stringify(template)
        .replaceAll('"repository":""', `"repository":${JSON.stringify(repo)}`)
        .replaceAll('"target":""', `"target":${JSON.stringify(target.url)}`)
        .replaceAll('"out":""', `"out":${JSON.stringify(join(dir, 'held.ndjson'))}`)
        .replace('ID0', ids[0])
        .replace('ID1', ids[1]),
    ) as JobSpec
    // Read synchronously in the event callback: the job is mid-way, between two of its steps.
    const held: { kind: string; operation: string }[][] = []
    await runJob(spec, {
      onEvent: (event) => {
        if (event.phase === 'starting' || event.phase === 'done') return
        const dirLocks = join(repo, 'locks')
        held.push(
          readdirSync(dirLocks).map(
            (name) =>
              JSON.parse(readFileSync(join(dirLocks, name), 'utf8')) as {
                kind: string
                operation: string
              },
          ),
        )
      },
    })
    // Its progress comes while it holds its lock, and no other.
    expect(held.some((locks) => locks.length > 0)).toBe(true)
    for (const locks of held.filter((l) => l.length > 0)) {
      expect(locks).toEqual([expect.objectContaining({ kind: 'shared', operation })])
    }
    // Released at the end.
    expect(readdirSync(join(repo, 'locks'))).toEqual([])
  })

  it('prune refuses while another process verifies', async () => {
    bounded()
    const release = await holdLock('shared', 'verify')
    try {
      await expect(runJob({ kind: 'prune', repository: repo })).rejects.toMatchObject({
        code: 'REPOSITORY_LOCKED',
      })
    } finally {
      await release()
    }
  })
})

describe('runJob: the snapshot result', () => {
  it('names the engine, the server version and a fingerprint that changes with the schema only', async () => {
    const own = await createTestDatabase('dbsnap_run_job_fingerprint')
    try {
      await own.client.query('CREATE TABLE a (id int PRIMARY KEY, v text)')
      const spec = {
        kind: 'snapshot',
        repository: join(dir, 'fingerprint'),
        create: true,
        source: own.url,
      } as const
      const first = await runJob(spec)
      expect(first).toMatchObject({
        engine: 'postgres',
        serverVersion: expect.stringMatching(/^\d+/) as string,
        schemaFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      })
      await own.client.query(`INSERT INTO a SELECT i, 'x' FROM generate_series(1, 100) i`)
      expect((await runJob(spec)).schemaFingerprint).toBe(first.schemaFingerprint)
      await own.client.query('ALTER TABLE a ADD COLUMN w int')
      expect((await runJob(spec)).schemaFingerprint).not.toBe(first.schemaFingerprint)
    } finally {
      await own.drop()
    }
  })
})
