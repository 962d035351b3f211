// How fast the control plane serves a saved diff's pages (issue 16: "p99 of a page request under
// 50 ms for a 10,000-change diff, both dialects"): the built control plane as its own process on
// SQLite and on PostgreSQL; two snapshots catalogued and a diff of them asked for through the API;
// a registered agent (the agent's own ControlPlaneClient and DiffUpload, without the engine)
// leases the diff job and uploads 10,000 changes over 20 tables through the real upload route,
// then reports the result. One client then requests, one at a time over HTTP: the first page,
// every page to the end by cursor, pages filtered by table and by change type, searches by key
// and by value, the first page again with its ETag (304), the filtered counts, and the whole
// NDJSON export. Prints p50/p95/p99/max per kind and writes bench/results/diff-pages-<stamp>.json.
// Run: node bench/diff-pages.ts [--changes 10000] [--tables 20] [--limit 100] [--dialects sqlite,postgres]

import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { ControlPlaneClient, DiffUpload } from '@dbsnap/agent'
import { diffOfChanges, type DiffJobResult, type RowChange, type TableDiff } from '@dbsnap/engine'
import { CP_BIN, UNLIMITED_RATES, benchProject, databaseSettings } from './lib/control-plane.ts'
import { dropDatabase } from './lib/postgres.ts'
import { TMP, describeMachine, percentile, progress, round, saveResults } from './lib/results.ts'
import { startLogging } from '../test/processes.ts'

const BENCH = 'diff-pages'
const DATABASE = 'dbsnap_bench_diff_pages'
/** p99 target of a page request (issue 16). */
const TARGET_P99_MS = 50

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '10000' },
    tables: { type: 'string', default: '20' },
    limit: { type: 'string', default: '100' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
  },
})
const params = {
  changes: Number(values.changes),
  tables: Number(values.tables),
  limit: Number(values.limit),
  dialects: values.dialects.split(',') as ('sqlite' | 'postgres')[],
}

const COLUMNS = ['id', 'email', 'sku', 'doc']
const tableName = (t: number) => `public.t${String(t).padStart(2, '0')}`
const idOf = (t: number, i: number) => 100_000 * (t + 1) + i
const row = (id: number, version: number) => [
  id,
  `user${id}@example.com`,
  `SKU-${id}`,
  JSON.stringify({ id, nested: { version }, tags: ['a', 'b'] }),
]

/** The diff the agent uploads: `params.changes` changes, table by table, a third of each kind. */
function* rowChanges(): Generator<RowChange> {
  const perTable = Math.ceil(params.changes / params.tables)
  for (let t = 0, n = 0; t < params.tables; t++) {
    for (let i = 0; i < perTable && n < params.changes; i++, n++) {
      const id = idOf(t, i)
      const base = { table: tableName(t), schema: 'public', name: tableName(t).slice(7), key: [id] }
      if (i % 3 === 0) yield { ...base, change: 'added', new: row(id, 1) }
      else if (i % 3 === 1) yield { ...base, change: 'removed', old: row(id, 1) }
      else {
        const [old, now] = [row(id, 1), row(id, 2)]
        yield {
          ...base,
          change: 'modified',
          old,
          new: now,
          fields: [
            {
              column: 'doc',
              old: old[3]!,
              new: now[3]!,
              patch: [{ op: 'replace', path: '/nested/version', value: 2 }],
            },
          ],
        }
      }
    }
  }
}

/** What an agent reports of a snapshot: a result the catalogue accepts. */
function snapshotResult(takenAt: string): unknown {
  return {
    id: randomBytes(16).toString('hex'),
    name: 'shop',
    repository: '/backups/shop',
    startedAt: takenAt,
    finishedAt: takenAt,
    durationMs: 1,
    totals: { tables: params.tables, rows: 1, bytes: 1, chunks: 1, newBytes: 1, reusedChunks: 0 },
    warnings: [],
  }
}

interface Latency {
  requests: number
  p50: number
  p95: number
  p99: number
  max: number
}

/** Milliseconds of each request, collected per kind. */
class Timings {
  readonly #ms = new Map<string, number[]>()
  add(kind: string, ms: number): void {
    const list = this.#ms.get(kind) ?? []
    list.push(ms)
    this.#ms.set(kind, list)
  }
  summary(): Record<string, Latency> {
    return Object.fromEntries(
      [...this.#ms].map(([kind, ms]) => {
        const sorted = [...ms].sort((a, b) => a - b)
        const at = (p: number) => percentile(sorted, p)
        return [kind, { requests: ms.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) }]
      }),
    )
  }
}

interface Measured {
  uploadSeconds: number
  latency: Record<string, Latency>
  exportNdjson: { bytes: number; ms: Latency }
  loadAverageAfter: number
}

async function benchDialect(dialect: 'sqlite' | 'postgres'): Promise<Measured> {
  const dir = `${TMP}/${BENCH}-${dialect}`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const env = {
    ...(await databaseSettings(dialect, dir, DATABASE)),
    ...UNLIMITED_RATES,
    DBSNAP_CP_PORT: '0',
    DBSNAP_CP_OPEN_REGISTRATION: 'true',
    DBSNAP_CP_EMBEDDED_AGENT: 'false',
  }
  let child: ChildProcess | undefined
  try {
    const cp = await startLogging(CP_BIN, [], env, 'port')
    child = cp.child
    // Keep reading its log (a line a request), so a full pipe never blocks it.
    child.stdout!.resume()
    const base = `http://127.0.0.1:${cp.line['port'] as number}`
    const { token, call, projectPath, connectionId } = await benchProject(
      base,
      { name: 'Diffs', slug: 'diffs' },
      { name: 'shop', url: 'postgres://app:pw@db.internal:5432/shop' },
    )
    const made = await call('POST', `${projectPath}/agents`, { name: 'bench' })
    const { credential } = await new ControlPlaneClient(base).register(
      made['registrationToken'] as string,
      { version: 'bench', hostname: 'bench' },
    )
    const agent = new ControlPlaneClient(base, credential)

    progress(`${dialect}: two snapshots, a diff of ${params.changes} changes uploaded`)
    const snapshots: string[] = []
    for (const takenAt of ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z']) {
      await call('POST', `${projectPath}/connections/${connectionId}/snapshots`, {})
      const leased = (await agent.lease(0))!
      const result = snapshotResult(takenAt) as { id: string }
      await agent.result(leased.job.id, leased.job.leaseId, result)
      snapshots.push(result.id)
    }
    const asked = await call('POST', `${projectPath}/diffs`, {
      from: snapshots[0],
      to: snapshots[1],
    })
    const diffId = (asked['diff'] as { id: string }).id
    const leased = (await agent.lease(0))!
    const started = performance.now()
    const upload = new DiffUpload(agent, leased.job.id, leased.job.leaseId)
    const sides = {
      from: { snapshot: snapshots[0]!, name: 'shop', takenAt: '2026-12-01T00:00:00.000Z' },
      to: { snapshot: snapshots[1]!, name: 'shop', takenAt: '2026-12-02T00:00:00.000Z' },
    }
    const tables = Array.from({ length: params.tables }, (_, t) => ({
      table: tableName(t),
      columns: { key: ['id'], old: COLUMNS, new: COLUMNS },
    })) as TableDiff[]
    await upload.render({ ...diffOfChanges(rowChanges(), sides), tables })
    const counts = { added: 0, removed: 0, modified: 0 }
    for (const change of rowChanges()) counts[change.change]++
    const engineResult = {
      ...sides,
      summary: {
        equal: false,
        schemaChanges: 0,
        tables: { added: 0, removed: 0, changed: params.tables, unchanged: 0 },
        rows: counts,
      },
      schema: [],
      warnings: [],
    } as unknown as DiffJobResult
    await agent.result(leased.job.id, leased.job.leaseId, upload.result(engineResult))
    const uploadSeconds = (performance.now() - started) / 1000

    const timings = new Timings()
    const changesPath = `${base}/api/v1${projectPath}/diffs/${diffId}`
    /** One timed GET; the body is read whole, as a browser would before showing it. */
    const get = async (kind: string | null, path: string, headers: Record<string, string> = {}) => {
      const t0 = performance.now()
      const res = await fetch(`${changesPath}${path}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
      })
      const text = await res.text()
      if (kind !== null) timings.add(kind, performance.now() - t0)
      if (res.status !== 200 && res.status !== 304) {
        throw new Error(`GET ${path}: ${res.status} ${text}`)
      }
      return { res, text }
    }
    /** Walks every page of `query` to the end by cursor; returns how many changes it saw. */
    const walk = async (kind: string, query: string): Promise<number> => {
      let cursor: string | null = null
      let seen = 0
      do {
        const after: string = cursor === null ? '' : `&cursor=${cursor}`
        const { text } = await get(kind, `/changes?limit=${params.limit}${query}${after}`)
        const page = JSON.parse(text) as { items: unknown[]; nextCursor: string | null }
        seen += page.items.length
        cursor = page.nextCursor
      } while (cursor !== null)
      return seen
    }

    progress(`${dialect}: requests`)
    for (let i = 0; i < 20; i++) await get(null, `/changes?limit=${params.limit}`)
    for (let i = 0; i < 200; i++) await get('first page', `/changes?limit=${params.limit}`)
    for (let pass = 0; pass < 3; pass++) {
      const seen = await walk('every page by cursor', '')
      if (seen !== params.changes) throw new Error(`walked ${seen} of ${params.changes} changes`)
    }
    for (let t = 0; t < params.tables; t++) await walk('by table', `&table=${tableName(t)}`)
    for (const type of ['added', 'removed', 'modified']) await walk('by type', `&type=${type}`)
    const perTable = Math.ceil(params.changes / params.tables)
    const sample = (n: number) =>
      Array.from({ length: n }, (_, i) => idOf(i % params.tables, (i * 37) % perTable))
    // A key or a value found once: the search reads every change of the diff.
    for (const id of sample(100)) await walk('search by key', `&q=${id}`)
    for (const id of sample(100))
      await walk('search by value', `&q=${encodeURIComponent(`user${id}@example.com`)}`)
    const { res } = await get(null, `/changes?limit=${params.limit}`)
    const etag = res.headers.get('etag')!
    for (let i = 0; i < 200; i++) {
      const again = await get('304 (If-None-Match)', `/changes?limit=${params.limit}`, {
        'if-none-match': etag,
      })
      if (again.res.status !== 304) throw new Error(`expected 304, got ${again.res.status}`)
    }
    for (let i = 0; i < 50; i++) await get('counts', '/counts')
    for (const id of sample(50)) await get('counts, searched', `/counts?q=${id}`)
    const exports = new Timings()
    let bytes = 0
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      const { text } = await get(null, '/export?format=ndjson')
      exports.add('ndjson', performance.now() - t0)
      bytes = Buffer.byteLength(text)
    }
    return {
      uploadSeconds: round(uploadSeconds),
      latency: timings.summary(),
      exportNdjson: { bytes, ms: exports.summary()['ndjson']! },
      loadAverageAfter: round(loadavg()[0]!),
    }
  } finally {
    child?.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
    if (dialect === 'postgres') await dropDatabase(DATABASE)
  }
}

const startedAt = new Date()
const machine = await describeMachine()
const results: Record<string, Measured> = {}
for (const dialect of params.dialects) results[dialect] = await benchDialect(dialect)
const summary = Object.entries(results).flatMap(([dialect, m]) => [
  `${dialect}: ${params.changes} changes uploaded in ${m.uploadSeconds} s; ` +
    `NDJSON export ${round(m.exportNdjson.bytes / 2 ** 20, 1)} MiB in ${m.exportNdjson.ms.p50} ms`,
  ...Object.entries(m.latency).map(
    ([kind, l]) =>
      `  ${kind.padEnd(22)} ${String(l.requests).padStart(4)} req  p50 ${l.p50}  p95 ${l.p95}  ` +
      `p99 ${l.p99}  max ${l.max} ms${l.p99 < TARGET_P99_MS ? '' : `  (p99 over ${TARGET_P99_MS} ms)`}`,
  ),
])
saveResults(BENCH, startedAt, {
  machine,
  params: { ...params, targetP99Ms: TARGET_P99_MS },
  results,
  summary,
})
