// What a restore costs: `dbsnap restore` of a 1,000,000-row table into an empty database, against
// the tools a user would otherwise restore with, measured in the same run on the same data:
// PostgreSQL `pg_restore` of a `pg_dump -Fc` (one job), MySQL/MariaDB `mysql < dump.sql` of a
// `mysqldump --single-transaction --quick`. Each restore ends with the same indexes. Wall times
// are paired (ours, then theirs, each into a fresh database) and reported as the median and the
// spread of the pairs' ratios; the client's CPU seconds (GNU time) are reported beside them, as
// they decide the wall time on a machine whose cores are busy with other work.
// Run: node bench/restore.ts [--rows 1000000] [--mysql-mib 250] [--runs 3] [--engines postgres,mysql]

import { spawn } from 'node:child_process'
import { createReadStream, mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { cliArgs, removeRepository, snapshot } from './lib/dbsnap.ts'
import { generateTable } from './lib/generate.ts'
import {
  createMysqlDatabase,
  dropMysqlDatabase,
  generateMysqlTable,
  mysqlDatabaseUrl,
  mysqlServerVersion,
} from './lib/mysql.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'
import { run, withCpuSeconds } from './lib/run.ts'
import { MYSQL_URL } from './lib/services.ts'

const BENCH = 'restore'
const REPO = `${TMP}/${BENCH}-repo`
const TABLE = 'bench_rows'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'mysql-mib': { type: 'string', default: '250' },
    runs: { type: 'string', default: '3' },
    engines: { type: 'string', default: 'postgres,mysql' },
  },
})
const rows = Number(values.rows)
const runs = Number(values.runs)
const engines = values.engines.split(',')

interface Comparison {
  /** Wall seconds of each run. */
  dbsnap: number[]
  reference: number[]
  /** The client's CPU seconds (user + system) of each run. */
  dbsnapCpu: number[]
  referenceCpu: number[]
}

interface Timed {
  seconds: number
  cpuSeconds: number
}

/** Runs `pass` runs+1 times (the first a warm-up), each into a fresh empty target. */
async function compare(
  label: string,
  reference: string,
  fresh: () => Promise<string>,
  dbsnapRestore: (target: string) => Promise<Timed>,
  referenceRestore: (target: string) => Promise<Timed>,
): Promise<Comparison> {
  const samples: Comparison = { dbsnap: [], reference: [], dbsnapCpu: [], referenceCpu: [] }
  for (let pass = 0; pass <= runs; pass++) {
    const ours = await dbsnapRestore(await fresh())
    const theirs = await referenceRestore(await fresh())
    progress(
      `${label} ${pass === 0 ? 'warm-up' : `run ${pass}/${runs}`}: dbsnap restore ${ours.seconds.toFixed(2)} s (CPU ${ours.cpuSeconds.toFixed(2)} s), ${reference} ${theirs.seconds.toFixed(2)} s (CPU ${theirs.cpuSeconds.toFixed(2)} s)`,
    )
    if (pass === 0) continue
    samples.dbsnap.push(ours.seconds)
    samples.reference.push(theirs.seconds)
    samples.dbsnapCpu.push(ours.cpuSeconds)
    samples.referenceCpu.push(theirs.cpuSeconds)
  }
  return samples
}

/** Medians, and the spread of the paired runs' ratios, so that one lucky run carries nothing. */
function summarize(samples: Comparison): Record<string, unknown> {
  const ratios = samples.dbsnap.map((ours, i) => ours / samples.reference[i]!)
  return {
    ratio: round(median(samples.dbsnap) / median(samples.reference), 3),
    pairRatios: { min: round(Math.min(...ratios), 3), max: round(Math.max(...ratios), 3) },
    cpuSeconds: {
      dbsnap: round(median(samples.dbsnapCpu), 3),
      reference: round(median(samples.referenceCpu), 3),
    },
  }
}

/** A summary line's tail: ratio of medians, the pairs' spread, and the client CPU. */
function describe(result: Record<string, unknown>, reference: string, target: string): string {
  const spread = result.pairRatios as { min: number; max: number }
  const cpu = result.cpuSeconds as { dbsnap: number; reference: number }
  return `${String(result.ratio)}x (pairs ${spread.min}-${spread.max}x${target}), client CPU ${cpu.dbsnap} s vs ${reference} ${cpu.reference} s`
}

/** `command args`, timed: wall seconds, and CPU seconds from GNU time. */
async function timed(command: string, args: string[]): Promise<Timed> {
  const { value, cpuSeconds } = await withCpuSeconds((wrapper) =>
    run(wrapper[0]!, [...wrapper.slice(1), command, ...args], { stdout: 'ignore' }),
  )
  return { seconds: value.seconds, cpuSeconds }
}

function dbsnapRestore(name: string, target: string): Promise<Timed> {
  return timed(
    process.execPath,
    cliArgs(['restore', `${name}@latest`, '--to', target, '--repo', REPO]),
  )
}

async function postgres(): Promise<Record<string, unknown>> {
  const source = 'dbsnap_bench_restore'
  const copy = 'dbsnap_bench_restore_to'
  const dump = `${TMP}/${BENCH}.dump`
  const url = await createDatabase(source)
  try {
    const table = await generateTable(url, TABLE, { rows })
    await removeRepository(REPO)
    await snapshot(url, REPO)
    await run('pg_dump', ['-Fc', '-t', TABLE, '-f', dump, '-d', url])
    const samples = await compare(
      'postgres',
      'pg_restore',
      () => createDatabase(copy),
      (target) => dbsnapRestore(source, target),
      (target) => timed('pg_restore', ['--no-owner', '-d', target, dump]),
    )
    return {
      table,
      seconds: {
        dbsnap: round(median(samples.dbsnap), 3),
        pgRestore: round(median(samples.reference), 3),
      },
      ...summarize(samples),
      samples,
    }
  } finally {
    await dropDatabase(copy)
    await dropDatabase(source)
    await removeRepository(REPO)
    await rm(dump, { force: true })
  }
}

/** `mysql <database> < file`, the usual way a mysqldump is loaded; wall and CPU seconds. */
async function mysqlLoad(database: string, file: string): Promise<Timed> {
  const url = new URL(MYSQL_URL)
  const args = [`--host=${url.hostname}`, `--port=${url.port || '3306'}`, database]
  if (url.username !== '') args.unshift(`--user=${decodeURIComponent(url.username)}`)
  const env = url.password === '' ? {} : { MYSQL_PWD: decodeURIComponent(url.password) }
  const started = performance.now()
  const cpu = await withCpuSeconds(async (wrapper) => {
    const child = spawn(wrapper[0]!, [...wrapper.slice(1), 'mysql', ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'inherit'],
    })
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`mysql exited ${code}`)),
      )
    })
    await Promise.all([pipeline(createReadStream(file), child.stdin), exited])
  })
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpu.cpuSeconds }
}

async function mysql(): Promise<Record<string, unknown>> {
  const source = 'dbsnap_bench_restore'
  const copy = 'dbsnap_bench_restore_to'
  const dump = `${TMP}/${BENCH}.sql`
  await createMysqlDatabase(source)
  try {
    const table = await generateMysqlTable(source, TABLE, {
      targetBytes: Number(values['mysql-mib']) * 2 ** 20,
    })
    await removeRepository(REPO)
    await snapshot(mysqlDatabaseUrl(source), REPO)
    const url = new URL(MYSQL_URL)
    await run(
      'sh',
      [
        '-c',
        'mysqldump --host="$1" --port="$2" --user="$3" --single-transaction --quick "$4" > "$5"',
        'sh',
        url.hostname,
        url.port || '3306',
        decodeURIComponent(url.username),
        source,
        dump,
      ],
      { env: url.password === '' ? {} : { MYSQL_PWD: decodeURIComponent(url.password) } },
    )
    const samples = await compare(
      'mysql',
      'mysql < dump.sql',
      async () => {
        await createMysqlDatabase(copy)
        return mysqlDatabaseUrl(copy)
      },
      (target) => dbsnapRestore(source, target),
      () => mysqlLoad(copy, dump),
    )
    return {
      server: await mysqlServerVersion(),
      table,
      seconds: {
        dbsnap: round(median(samples.dbsnap), 3),
        mysqlLoad: round(median(samples.reference), 3),
      },
      ...summarize(samples),
      samples,
    }
  } finally {
    await dropMysqlDatabase(copy)
    await dropMysqlDatabase(source)
    await removeRepository(REPO)
    await rm(dump, { force: true })
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const results: Record<string, Record<string, unknown>> = {}
  const summary = [`${BENCH}: median of ${runs} paired runs, each restore into an empty database`]
  if (engines.includes('postgres')) {
    const pg = await postgres()
    results.postgres = pg
    const s = pg.seconds as { dbsnap: number; pgRestore: number }
    summary.push(
      `  postgres, ${rows.toLocaleString('en-US')} rows: dbsnap restore ${s.dbsnap} s, pg_restore ${s.pgRestore} s: ${describe(pg, 'pg_restore', '; target <= 1.0')}`,
    )
  }
  if (engines.includes('mysql')) {
    const my = await mysql()
    results.mysql = my
    const s = my.seconds as { dbsnap: number; mysqlLoad: number }
    const table = my.table as { rows: number }
    summary.push(
      `  mysql, ${table.rows.toLocaleString('en-US')} rows: dbsnap restore ${s.dbsnap} s, mysql < dump.sql ${s.mysqlLoad} s: ${describe(my, 'mysql', '')}`,
    )
  }
  saveResults(BENCH, startedAt, { machine, params: { rows, runs, engines }, results, summary })
}

await main()
