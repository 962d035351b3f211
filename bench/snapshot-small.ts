// A small database of many tables: dbsnap snapshot against pg_dump -Fc in paired runs, wall and
// CPU, where process start-up and per-table costs dominate. Run:
// node bench/snapshot-small.ts [--rows 50000] [--runs 7] [--jobs N]

import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
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
  },
})
const rows = Number(values.rows)
const runs = Number(values.runs)
const jobs = values.jobs === undefined ? undefined : Number(values.jobs)

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const url = await createDatabase(DATABASE)
  try {
    const database = await generateSmallDatabase(url, rows)
    const versus = await versusPgDump(url, {
      runs,
      label: BENCH,
      extra: jobs === undefined ? [] : ['--jobs', String(jobs)],
    })
    const summary = [
      `${BENCH}: ${database.tables} tables, ${database.rows.toLocaleString('en-US')} rows, ${database.views} views, jobs ${jobs ?? 'default'}; median (min–max) of ${runs} paired runs`,
      ...summarizeVersus('small', versus),
    ]
    saveResults(BENCH, startedAt, {
      machine,
      params: { rows, runs, jobs: jobs ?? null },
      results: { database, ...versus },
      summary,
    })
  } finally {
    await dropDatabase(DATABASE)
  }
}

await main()
