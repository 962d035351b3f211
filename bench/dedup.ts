// What a snapshot costs after a small change: 1% of rows updated, inserted or deleted at random
// (seeded), and no change at all. Run: node bench/dedup.ts [--rows 1000000]

import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { removeRepository, snapshot, type TimedSnapshot } from './lib/dbsnap.ts'
import { generateTable, insertRowsSql } from './lib/generate.ts'
import { createDatabase, dropDatabase, psql } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'dedup'
const DATABASE = 'dbsnap_bench_dedup'
const TABLE = 'bench_rows'
const REPO = `${TMP}/${BENCH}-repo`
/** The most a 1% change may cost, as a share of the first snapshot's new bytes. */
const TARGET_SHARE = 0.05

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } })
const rows = Number(values.rows)

/** Deterministic ~1% of rows: those whose hash of the id (with a per-step seed) is 0 mod 100. */
const onePercent = (column: string, seed: number): string =>
  `hashint8extended(${column}, ${seed}) % 100 = 0`

/** `WITH c AS (<change> RETURNING 1) SELECT count(*)`: the change, returning rows affected. */
async function change(url: string, sql: string): Promise<number> {
  return Number(await psql(url, `WITH c AS (${sql} RETURNING 1) SELECT count(*) FROM c`))
}

interface Step {
  name: string
  /** Applies the change; returns how many rows it touched. */
  apply: (url: string) => Promise<number>
}

const STEPS: Step[] = [
  { name: 'first', apply: () => Promise.resolve(rows) },
  {
    name: 'update 1%',
    apply: (url) =>
      change(url, `UPDATE ${TABLE} SET amount = amount + 1 WHERE ${onePercent('id', 101)}`),
  },
  { name: 'no change', apply: () => Promise.resolve(0) },
  {
    name: 'insert 1%',
    apply: (url) => change(url, insertRowsSql(TABLE, 1, rows, 5, onePercent('i', 102))),
  },
  {
    name: 'delete 1%',
    apply: (url) => change(url, `DELETE FROM ${TABLE} WHERE ${onePercent('id', 103)}`),
  },
]

function describe(step: string, changedRows: number, run: TimedSnapshot, firstNewBytes: number) {
  const t = run.result.totals
  return {
    step,
    changedRows,
    rows: t.rows,
    chunks: t.chunks,
    newObjects: t.newObjects,
    reusedChunks: t.reusedChunks,
    newBytes: t.newBytes,
    shareOfFirst: round(t.newBytes / firstNewBytes, 4),
    seconds: round(run.seconds),
  }
}

function verdict(s: ReturnType<typeof describe>): string {
  if (s.step === 'first') return ''
  if (s.step === 'no change')
    return s.newObjects === 0 ? 'ok: 0 objects' : `FAIL: ${s.newObjects} objects written`
  return s.shareOfFirst <= TARGET_SHARE
    ? `ok <= ${TARGET_SHARE * 100}%`
    : `OVER ${TARGET_SHARE * 100}%`
}

function summarize(steps: ReturnType<typeof describe>[]): string[] {
  return [
    `${BENCH}: ${rows.toLocaleString('en-US')} rows; new bytes of each snapshot / new bytes of the first`,
    ...steps.map(
      (s) =>
        `  ${s.step.padEnd(10)} ${String(s.changedRows).padStart(8)} rows changed: ${s.newObjects} objects, ` +
        `${(s.newBytes / MiB).toFixed(2)} MiB new, ${(s.shareOfFirst * 100).toFixed(2)}% ${verdict(s)}`,
    ),
  ]
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const url = await createDatabase(DATABASE)
  await removeRepository(REPO)
  try {
    await generateTable(url, TABLE, { rows })
    const steps: ReturnType<typeof describe>[] = []
    for (const step of STEPS) {
      const changedRows = await step.apply(url)
      const run = await snapshot(url, REPO)
      const described = describe(
        step.name,
        changedRows,
        run,
        steps[0]?.newBytes ?? run.result.totals.newBytes,
      )
      progress(`${step.name}: ${described.newObjects} objects, ${described.newBytes} bytes new`)
      steps.push(described)
    }
    saveResults(BENCH, startedAt, {
      machine,
      params: { rows, targetShare: TARGET_SHARE },
      results: { steps },
      summary: summarize(steps),
    })
  } finally {
    await dropDatabase(DATABASE)
    await removeRepository(REPO)
  }
}

await main()
