// A small database of many tables: dbsnap snapshot against pg_dump -Fc in paired runs, wall and
// CPU, where process start-up and per-table costs dominate. Run:
// node bench/snapshot-small.ts [--rows 50000] [--runs 7] [--jobs N] [--delay-ms N]

import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startDelayProxy } from './lib/delay-proxy.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { TMP, describeMachine, saveResults } from './lib/results.ts'
import { generateSmallDatabase } from './lib/small-db.ts'
import { summarizeVersus, versusPgDump } from './lib/versus-pg-dump.ts'

const BENCH = 'snapshot-small'
const DATABASE = 'dbsnap_bench_small'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '7' },
    // Default: the snapshot's own default (`dbsnap snapshot` without --jobs).
    jobs: { type: 'string' },
    // The database this far away each way, through a proxy: a round trip costs twice as much.
    'delay-ms': { type: 'string', default: '0' },
  },
})
const rows = Number(values.rows)
const runs = Number(values.runs)
const jobs = values.jobs === undefined ? undefined : Number(values.jobs)
const delayMs = Number(values['delay-ms'])

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const url = await createDatabase(DATABASE)
  try {
    const database = await generateSmallDatabase(url, rows)
    const proxy = delayMs > 0 ? await startDelayProxy(url, delayMs) : null
    const versus = await versusPgDump(proxy?.url ?? url, {
      runs,
      label: BENCH,
      extra: jobs === undefined ? [] : ['--jobs', String(jobs)],
    }).finally(() => proxy?.close())
    const away = delayMs > 0 ? `, the server ${delayMs} ms away each way` : ''
    const summary = [
      `${BENCH}: ${database.tables} tables, ${database.rows.toLocaleString('en-US')} rows, ${database.views} views, jobs ${jobs ?? 'default'}${away}; median (min–max) of ${runs} paired runs`,
      ...summarizeVersus('small', versus),
    ]
    saveResults(BENCH, startedAt, {
      machine,
      params: { rows, runs, jobs: jobs ?? null, delayMs },
      results: { database, ...versus },
      summary,
    })
  } finally {
    await dropDatabase(DATABASE)
  }
}

await main()
