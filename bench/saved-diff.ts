// Paging a saved diff: a diff of 10,000 row changes (3 tables, all kinds, realistic rows) saved
// into a local repository, then pages of 100 read back as `dbsnap diffs` and the control plane
// read them: plain, filtered by table and kind, and searched. Run: node bench/saved-diff.ts

import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import {
  Repository,
  openStorage,
  queryDiffPage,
  readSavedDiff,
  saveDiff,
  diffOfChanges,
  type DiffPageQuery,
  type RowChange,
  type RowChangeKind,
  type SnapshotDiff,
} from '@dbsnap/engine'
import { TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'saved-diff'
const REPO = `${TMP}/${BENCH}-repo`
/** The target for any page of 100, filtered or searched. */
const TARGET_MS = 50

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '20' },
  },
})
const total = Number(values.changes)
const runs = Number(values.runs)

const TABLES = ['public.orders', 'public.customers', 'sales.items']
const KINDS: RowChangeKind[] = ['modified', 'modified', 'added', 'removed']

/** A row like the benchmarks' generated table: ids, names, emails, amounts, JSON. */
function row(i: number, version: number): (string | number | boolean | null)[] {
  return [
    i * 10,
    `Customer ${i % 997}`,
    `user${i}@example.com`,
    ((i * 7919) % 100000) / 100 + version,
    '2026-11-24 12:00:00+00',
    i % 3 === 0,
    `order note ${i} with some words to make the row realistic`,
    JSON.stringify({ plan: 'team', seats: (i % 50) + version, tags: ['a', 'b'] }),
  ]
}

/** The changes, generated as they are saved: never all in memory. */
function* syntheticChanges(): Generator<RowChange> {
  for (let i = 0; i < total; i++) {
    const table = TABLES[Math.floor((i * TABLES.length) / total)]!
    const change = KINDS[i % KINDS.length]!
    const key = [i * 10]
    if (change === 'added') yield { table, change, key, new: row(i, 1) }
    else if (change === 'removed') yield { table, change, key, old: row(i, 0) }
    else {
      const amount = { column: 'amount', old: row(i, 0)[3]!, new: row(i, 1)[3]! }
      yield { table, change, key, old: row(i, 0), new: row(i, 1), fields: [amount] }
    }
  }
}

function syntheticDiff(): SnapshotDiff {
  const side = { snapshot: 'f'.repeat(64), name: 'bench', takenAt: new Date().toISOString() }
  return diffOfChanges(syntheticChanges(), { from: side, to: side })
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  await rm(REPO, { recursive: true, force: true })
  const machine = await describeMachine()
  const repository = await Repository.open(await openStorage(REPO, { create: true }), {
    create: true,
  })
  try {
    const saveStarted = performance.now()
    const { id } = await saveDiff(repository, syntheticDiff())
    const saveMs = performance.now() - saveStarted
    const pages = Math.ceil(total / 100)
    const queries: Record<string, DiffPageQuery> = {
      'first page': { page: 1 },
      'middle page': { page: Math.ceil(pages / 2) },
      'last page': { page: pages },
      'table + kind, page 5': { table: 'public.customers', change: 'removed', page: 5 },
      'search, a match near the end': { search: `user${total - 5}@example.com` },
      'search, no match (reads every block)': { search: 'no such text anywhere' },
    }
    const results: Record<string, { medianMs: number; maxMs: number; changes: number }> = {}
    for (const [name, query] of Object.entries(queries)) {
      const times: number[] = []
      let changes = 0
      for (let i = 0; i <= runs; i++) {
        // As a server answers each request: read the saved diff, then the page.
        const started = performance.now()
        const { saved } = await readSavedDiff(repository, id)
        const page = await queryDiffPage(repository, saved, query)
        if (i > 0) times.push(performance.now() - started)
        changes = page.changes.length
      }
      results[name] = {
        medianMs: round(median(times), 2),
        maxMs: round(Math.max(...times), 2),
        changes,
      }
      progress(
        `${name}: median ${median(times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`,
      )
    }
    const worst = Math.max(...Object.values(results).map((r) => r.maxMs))
    const summary = [
      `${BENCH}: ${total.toLocaleString('en-US')} changes saved in ${saveMs.toFixed(0)} ms; pages of 100, ${runs} runs each (target < ${TARGET_MS} ms)`,
      ...Object.entries(results).map(
        ([name, r]) =>
          `  ${name.padEnd(40)} median ${r.medianMs} ms, max ${r.maxMs} ms (${r.changes} changes)`,
      ),
      `  slowest of all: ${worst} ms (${worst < TARGET_MS ? 'ok' : 'OVER'} < ${TARGET_MS})`,
    ]
    saveResults(BENCH, startedAt, {
      machine,
      params: { changes: total, runs },
      results: { saveMs: round(saveMs, 1), queries: results, worstMs: worst },
      summary,
    })
  } finally {
    await repository.close()
    await rm(REPO, { recursive: true, force: true })
  }
}

await main()
