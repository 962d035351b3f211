// What a diff costs: two snapshots of a 1,000,000-row table that differ in 1,000 rows (updates,
// inserts and deletes at random, seeded), against `dbsnap snapshot` of the table and against the
// route a user would otherwise take: `pg_dump --data-only` twice, then `diff`. Also two
// identical snapshots. Run: node bench/diff.ts [--rows 1000000] [--runs 3]

import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { cliArgs, removeRepository, snapshot } from './lib/dbsnap.ts'
import { generateTable, insertRowsSql } from './lib/generate.ts'
import { createDatabase, dropDatabase, psql } from './lib/postgres.ts'
import { TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'
import { run } from './lib/run.ts'

const BENCH = 'diff'
const DATABASE = 'dbsnap_bench_diff'
const TABLE = 'bench_rows'
const REPO = `${TMP}/${BENCH}-repo`
const DUMP_A = `${TMP}/${BENCH}-a.sql`
const DUMP_B = `${TMP}/${BENCH}-b.sql`

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
})
const rows = Number(values.rows)
const runs = Number(values.runs)

/** Rows whose hash (with `seed`) falls in the lowest `count` of `rows`: a seeded random pick. */
const pick = (column: string, seed: number, count: number): string =>
  `abs(hashint8extended(${column}, ${seed})) % ${rows} < ${count}`

/** 600 updates, 200 inserts, 200 deletes: about 1,000 changed rows spread over the table. */
async function changeRows(url: string): Promise<number> {
  const count = async (sql: string): Promise<number> =>
    Number(await psql(url, `WITH c AS (${sql} RETURNING 1) SELECT count(*) FROM c`))
  const updated = await count(
    `UPDATE ${TABLE} SET amount = amount + 1, attrs = jsonb_set(attrs, '{seats}', '99')
     WHERE ${pick('id', 201, 600)}`,
  )
  const inserted = await count(insertRowsSql(TABLE, 1, rows, 3, pick('i', 202, 200)))
  const deleted = await count(`DELETE FROM ${TABLE} WHERE ${pick('id', 203, 200)}`)
  progress(`changed ${updated} updated, ${inserted} inserted, ${deleted} deleted`)
  return updated + inserted + deleted
}

async function timed(command: string, args: string[]): Promise<number> {
  return (await run(command, args, { stdout: 'ignore' })).seconds
}

/** `diff` exits 1 when the files differ: that is its success here. */
async function unixDiff(): Promise<number> {
  const started = performance.now()
  await run('sh', ['-c', `diff ${DUMP_A} ${DUMP_B} > /dev/null; test $? -le 1`])
  return (performance.now() - started) / 1000
}

async function dbsnapDiff(from: string, to: string): Promise<{ seconds: number; output: string }> {
  const result = await run(process.execPath, cliArgs(['diff', from, to, '--repo', REPO, '--json']))
  return { seconds: result.seconds, output: result.stdout }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const url = await createDatabase(DATABASE)
  try {
    const table = await generateTable(url, TABLE, { rows })
    await removeRepository(REPO)
    const first = await snapshot(url, REPO)
    const dumpA = await timed('pg_dump', ['--data-only', '-t', TABLE, '-f', DUMP_A, '-d', url])
    const changed = await changeRows(url)
    const second = await snapshot(url, REPO)
    const dumpB = await timed('pg_dump', ['--data-only', '-t', TABLE, '-f', DUMP_B, '-d', url])
    const [a, b] = [first.result.id, second.result.id]

    const samples = { diff: [] as number[], identical: [] as number[], unixDiff: [] as number[] }
    let reported = { added: 0, removed: 0, modified: 0 }
    for (let pass = 0; pass <= runs; pass++) {
      const changedDiff = await dbsnapDiff(a, b)
      const identical = await dbsnapDiff(b, b)
      const unix = await unixDiff()
      const label = pass === 0 ? 'warm-up' : `run ${pass}/${runs}`
      progress(
        `${label}: dbsnap diff ${changedDiff.seconds.toFixed(2)} s, identical ${identical.seconds.toFixed(2)} s, diff(1) ${unix.toFixed(2)} s`,
      )
      if (pass === 0) {
        reported = (JSON.parse(changedDiff.output) as { summary: { rows: typeof reported } })
          .summary.rows
        continue
      }
      samples.diff.push(changedDiff.seconds)
      samples.identical.push(identical.seconds)
      samples.unixDiff.push(unix)
    }
    const diffSeconds = median(samples.diff)
    const snapshotSeconds = second.seconds
    const naiveSeconds = dumpA + dumpB + median(samples.unixDiff)
    const results = {
      table,
      changedRows: changed,
      reported,
      seconds: {
        snapshot: round(snapshotSeconds, 3),
        diff: round(diffSeconds, 3),
        identical: round(median(samples.identical), 3),
        pgDumpDataOnly: [round(dumpA, 3), round(dumpB, 3)],
        unixDiff: round(median(samples.unixDiff), 3),
        naiveRoute: round(naiveSeconds, 3),
      },
      ratios: {
        diffToSnapshot: round(diffSeconds / snapshotSeconds, 3),
        naiveToDiff: round(naiveSeconds / diffSeconds, 1),
        unixDiffAloneToDiff: round(median(samples.unixDiff) / diffSeconds, 2),
      },
      samples,
    }
    const s = results.seconds
    const summary = [
      `${BENCH}: ${rows.toLocaleString('en-US')} rows, ${changed} changed (reported +${reported.added} -${reported.removed} ~${reported.modified}), median of ${runs}`,
      `  dbsnap diff ${s.diff} s = ${results.ratios.diffToSnapshot} of dbsnap snapshot ${s.snapshot} s (target <= 0.1); identical snapshots ${s.identical} s (target < 1)`,
      `  naive route: pg_dump --data-only ${s.pgDumpDataOnly.join(' + ')} s + diff(1) ${s.unixDiff} s = ${s.naiveRoute} s: ${results.ratios.naiveToDiff}x dbsnap diff (target >= 10); diff(1) alone ${results.ratios.unixDiffAloneToDiff}x`,
    ]
    saveResults(BENCH, startedAt, { machine, params: { rows, runs }, results, summary })
  } finally {
    await dropDatabase(DATABASE)
    await removeRepository(REPO)
    await rm(DUMP_A, { force: true })
    await rm(DUMP_B, { force: true })
  }
}

await main()
