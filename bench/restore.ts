// What a restore costs: `dbsnap restore` of a 1,000,000-row table into an empty database, against
// the tools a user would otherwise restore with, measured in the same run on the same data:
// PostgreSQL `pg_restore` of a `pg_dump -Fc` (one job), MySQL/MariaDB `mysql < dump.sql` of a
// `mysqldump --single-transaction --quick`. Each restore ends with the same indexes.
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
import { run } from './lib/run.ts'
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
  dbsnap: number[]
  reference: number[]
}

/** Runs `pass` runs+1 times (the first a warm-up), each into a fresh empty target. */
async function compare(
  label: string,
  reference: string,
  fresh: () => Promise<string>,
  dbsnapRestore: (target: string) => Promise<number>,
  referenceRestore: (target: string) => Promise<number>,
): Promise<Comparison> {
  const samples: Comparison = { dbsnap: [], reference: [] }
  for (let pass = 0; pass <= runs; pass++) {
    const ours = await dbsnapRestore(await fresh())
    const theirs = await referenceRestore(await fresh())
    progress(
      `${label} ${pass === 0 ? 'warm-up' : `run ${pass}/${runs}`}: dbsnap restore ${ours.toFixed(2)} s, ${reference} ${theirs.toFixed(2)} s`,
    )
    if (pass === 0) continue
    samples.dbsnap.push(ours)
    samples.reference.push(theirs)
  }
  return samples
}

async function dbsnapRestore(name: string, target: string): Promise<number> {
  const started = performance.now()
  await run(
    process.execPath,
    cliArgs(['restore', `${name}@latest`, '--to', target, '--repo', REPO]),
  )
  return (performance.now() - started) / 1000
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
      async (target) =>
        (await run('pg_restore', ['--no-owner', '-d', target, dump], { stdout: 'ignore' })).seconds,
    )
    const ours = median(samples.dbsnap)
    const theirs = median(samples.reference)
    return {
      table,
      seconds: { dbsnap: round(ours, 3), pgRestore: round(theirs, 3) },
      ratio: round(ours / theirs, 3),
      samples,
    }
  } finally {
    await dropDatabase(copy)
    await dropDatabase(source)
    await removeRepository(REPO)
    await rm(dump, { force: true })
  }
}

/** `mysql <database> < file`, the usual way a mysqldump is loaded; wall seconds. */
async function mysqlLoad(database: string, file: string): Promise<number> {
  const url = new URL(MYSQL_URL)
  const args = [`--host=${url.hostname}`, `--port=${url.port || '3306'}`, database]
  if (url.username !== '') args.unshift(`--user=${decodeURIComponent(url.username)}`)
  const env = url.password === '' ? {} : { MYSQL_PWD: decodeURIComponent(url.password) }
  const started = performance.now()
  const child = spawn('mysql', args, {
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
  return (performance.now() - started) / 1000
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
    const ours = median(samples.dbsnap)
    const theirs = median(samples.reference)
    return {
      server: await mysqlServerVersion(),
      table,
      seconds: { dbsnap: round(ours, 3), mysqlLoad: round(theirs, 3) },
      ratio: round(ours / theirs, 3),
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
  const summary = [`${BENCH}: median of ${runs}, each restore into an empty database`]
  if (engines.includes('postgres')) {
    const pg = await postgres()
    results.postgres = pg
    const s = pg.seconds as { dbsnap: number; pgRestore: number }
    summary.push(
      `  postgres, ${rows.toLocaleString('en-US')} rows: dbsnap restore ${s.dbsnap} s, pg_restore ${s.pgRestore} s: ${String(pg.ratio)}x (target <= 1.2)`,
    )
  }
  if (engines.includes('mysql')) {
    const my = await mysql()
    results.mysql = my
    const s = my.seconds as { dbsnap: number; mysqlLoad: number }
    const table = my.table as { rows: number }
    summary.push(
      `  mysql, ${table.rows.toLocaleString('en-US')} rows: dbsnap restore ${s.dbsnap} s, mysql < dump.sql ${s.mysqlLoad} s: ${String(my.ratio)}x`,
    )
  }
  saveResults(BENCH, startedAt, { machine, params: { rows, runs, engines }, results, summary })
}

await main()
