// A database of many tables read on several connections: `dbsnap snapshot --jobs N` against
// pg_dump -Fd -j N and pg_dump -Fc on PostgreSQL, and against mysqldump on MariaDB, in
// interleaved runs, wall, CPU and peak RSS. Run:
// node bench/snapshot-parallel.ts [--tables 64] [--rows 1200000] [--runs 3] [--jobs 1,2,4] [--no-mysql]

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { removeRepository, repositoryBytes, snapshot } from './lib/dbsnap.ts'
import {
  createMysqlDatabase,
  dropMysqlDatabase,
  mysqlDatabaseUrl,
  mysqldumpGzip,
  mysqlQuery,
  mysqlServerVersion,
} from './lib/mysql.ts'
import { createDatabase, dropDatabase, psql, serverVersion } from './lib/postgres.ts'
import { TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'
import { GNU_TIME, run } from './lib/run.ts'
import { MIXED_COLUMNS } from './lib/small-db.ts'
import { spread, formatSpread, type Spread } from './lib/versus-pg-dump.ts'

const BENCH = 'snapshot-parallel'
const DATABASE = 'dbsnap_bench_parallel'

const { values } = parseArgs({
  options: {
    tables: { type: 'string', default: '64' },
    rows: { type: 'string', default: '1200000' },
    runs: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '1,2,4' },
    'no-mysql': { type: 'boolean', default: false },
  },
})
const tableCount = Number(values.tables)
const totalRows = Number(values.rows)
const runs = Number(values.runs)
const jobList = values.jobs.split(',').map(Number)
const maxJobs = Math.max(...jobList)

/** One timed process: wall and CPU seconds (its threads and children), peak RSS, bytes written. */
interface Sample {
  seconds: number
  cpuSeconds: number
  peakRssMiB: number
  bytes: number
}

/** Runs `measure` under GNU time; its wall, CPU and peak RSS (%M, of the largest process). */
async function timed(
  measure: (wrapper: string[]) => Promise<number>,
): Promise<Omit<Sample, 'bytes'>> {
  if (!existsSync(GNU_TIME))
    throw new Error(`${GNU_TIME} (GNU time) is needed: apt-get install time`)
  const out = `${TMP}/${BENCH}-time-${process.pid}.txt`
  try {
    const started = performance.now()
    await measure([GNU_TIME, '-f', '%U %S %M', '-o', out])
    const seconds = (performance.now() - started) / 1000
    const [user = NaN, system = NaN, kib = NaN] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ')
      .map(Number)
    return { seconds, cpuSeconds: user + system, peakRssMiB: round(kib / 1024, 1) }
  } finally {
    rmSync(out, { force: true })
  }
}

/** Bytes of every file under `dir` (a pg_dump -Fd directory). */
async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) bytes += (await stat(`${dir}/${entry.name}`)).size
  }
  return bytes
}

/** Rows of table `k` of `count`: uneven, a few big tables and a long tail, summing to `total`. */
function rowsPerTable(count: number, total: number): number[] {
  const weights = Array.from({ length: count }, (_, k) => (k % 16 === 0 ? 24 : 1 + ((k * 7) % 5)))
  const sum = weights.reduce((a, b) => a + b, 0)
  return weights.map((w) => Math.max(1, Math.round((total * w) / sum)))
}

/** The PostgreSQL tables: id, then 3 to 9 columns of mixed types (as bench:small's side tables). */
async function generatePostgres(url: string): Promise<{ tables: number; rows: number }> {
  const rows = rowsPerTable(tableCount, totalRows)
  for (let k = 0; k < tableCount; k++) {
    const name = `t_${String(k).padStart(3, '0')}`
    const columns = Array.from(
      { length: 3 + (k % 7) },
      (_, c) => MIXED_COLUMNS[(k + c) % MIXED_COLUMNS.length]!,
    )
    await psql(
      url,
      `CREATE TABLE ${name} (id integer PRIMARY KEY, ${columns.map((c, i) => `c${i} ${c.type}`).join(', ')});
       INSERT INTO ${name} SELECT i, ${columns.map((c) => c.value).join(', ')}
         FROM generate_series(1, ${rows[k]}) AS i, LATERAL (SELECT hashint8extended(i, ${k}) AS h) AS x;`,
    )
  }
  await psql(url, 'VACUUM (ANALYZE)')
  // Dirty pages written out now, not by a checkpoint in the middle of a timed run.
  await psql(url, 'CHECKPOINT')
  return { tables: tableCount, rows: rows.reduce((a, b) => a + b, 0) }
}

/** The MariaDB tables, from the sequence engine: the same uneven sizes, mixed column types. */
async function generateMysql(database: string): Promise<{ tables: number; rows: number }> {
  const rows = rowsPerTable(tableCount, totalRows)
  for (let k = 0; k < tableCount; k++) {
    const name = `t_${String(k).padStart(3, '0')}`
    const h = `CRC32(seq + ${k * 1_000_003})`
    const columns = [
      ['a', 'INT NOT NULL', `${h} % 1000000`],
      ['b', 'VARCHAR(64) NOT NULL', `MD5(${h})`],
      ['c', 'DECIMAL(12,2)', `(${h} % 10000000) / 100`],
      ['d', 'DATETIME NOT NULL', `TIMESTAMP('2024-01-01') + INTERVAL (${h} % 31536000) SECOND`],
      ['e', 'TEXT', `IF(${h} % 5 = 0, NULL, REPEAT(LEFT(MD5(seq), 8), 1 + ${h} % 6))`],
      ['f', 'DOUBLE', `(${h} % 65536) / 7`],
      ['g', 'JSON', `JSON_OBJECT('k', ${h} % 256, 'tag', LEFT(MD5(${h}), 6))`],
    ].slice(0, 2 + (k % 6))
    await mysqlQuery(
      database,
      `CREATE TABLE ${name} (id INT NOT NULL PRIMARY KEY, ${columns.map(([c, type]) => `${c} ${type}`).join(', ')}) ENGINE = InnoDB;
       INSERT INTO ${name} SELECT seq, ${columns.map(([, , value]) => value).join(', ')} FROM seq_1_to_${rows[k]};`,
    )
  }
  await mysqlQuery(database, 'FLUSH TABLES')
  return { tables: tableCount, rows: rows.reduce((a, b) => a + b, 0) }
}

/** Runs every tool `runs` times after an untimed warm-up pass, the order rotated every pass. */
async function compare(
  label: string,
  tools: Record<string, () => Promise<Sample>>,
): Promise<Record<string, { samples: Sample[]; seconds: Spread; cpuSeconds: Spread }>> {
  const names = Object.keys(tools)
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let pass = 0; pass <= runs; pass++) {
    const order = names.map((_, i) => names[(i + pass) % names.length]!)
    for (const name of order) {
      const sample = await tools[name]!()
      const what = pass === 0 ? 'warm-up' : `run ${pass}/${runs}`
      progress(
        `${label} ${what} ${name}: ${sample.seconds.toFixed(2)} s wall, ${sample.cpuSeconds.toFixed(2)} s CPU, ${sample.peakRssMiB} MiB RSS`,
      )
      if (pass > 0) samples[name]!.push(sample)
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const list = samples[name]!
      return [
        name,
        {
          samples: list,
          seconds: spread(list.map((s) => s.seconds)),
          cpuSeconds: spread(list.map((s) => s.cpuSeconds)),
        },
      ]
    }),
  )
}

function dbsnapTool(url: string, repo: string, jobs: number): () => Promise<Sample> {
  return async () => {
    await removeRepository(repo)
    const time = await timed(async (wrapper) => {
      await snapshot(url, repo, { wrapper, extra: ['--jobs', String(jobs)] })
      return 0
    })
    const bytes = await repositoryBytes(repo)
    await removeRepository(repo)
    return { ...time, bytes }
  }
}

async function postgres(): Promise<{ lines: string[]; results: unknown }> {
  const url = await createDatabase(DATABASE)
  try {
    const database = await generatePostgres(url)
    const repo = `${TMP}/${BENCH}-repo`
    const dump = `${TMP}/${BENCH}.dump`
    const dir = `${TMP}/${BENCH}-dir`
    const tools: Record<string, () => Promise<Sample>> = {}
    for (const jobs of jobList) tools[`dbsnap -j${jobs}`] = dbsnapTool(url, repo, jobs)
    tools['pg_dump -Fc'] = async () => {
      await rm(dump, { force: true })
      const time = await timed(async ([command = '', ...args]) => {
        await run(command, [...args, 'pg_dump', '-Fc', '-f', dump, '-d', url])
        return 0
      })
      const { size } = await stat(dump)
      await rm(dump, { force: true })
      return { ...time, bytes: size }
    }
    for (const jobs of jobList.filter((j) => j > 1)) {
      tools[`pg_dump -Fd -j${jobs}`] = async () => {
        await rm(dir, { recursive: true, force: true })
        const time = await timed(async ([command = '', ...args]) => {
          await run(command, [...args, 'pg_dump', '-Fd', '-j', String(jobs), '-f', dir, '-d', url])
          return 0
        })
        const bytes = await directoryBytes(dir)
        await rm(dir, { recursive: true, force: true })
        return { ...time, bytes }
      }
    }
    const measured = await compare('postgres', tools)
    const ratio = (a: string, b: string): number =>
      round(median(pairRatios(measured[a]!.samples, measured[b]!.samples)), 2)
    const lines = [
      `postgres ${await serverVersion(url)}: ${database.tables} tables, ${database.rows.toLocaleString('en-US')} rows; median (min–max) of ${runs} runs`,
      ...Object.entries(measured).map(
        ([name, m]) =>
          `  ${name.padEnd(16)} wall ${formatSpread(m.seconds)} s, CPU ${formatSpread(m.cpuSeconds)} s, peak RSS ${median(m.samples.map((s) => s.peakRssMiB)).toFixed(0)} MiB, ${(m.samples[0]!.bytes / 2 ** 20).toFixed(1)} MiB written`,
      ),
      `  dbsnap -j1 / pg_dump -Fc: ${ratio('dbsnap -j1', 'pg_dump -Fc')} (target <= 1.0)`,
      ...jobList
        .filter((j) => j > 1)
        .flatMap((j) => [
          `  dbsnap -j${j} / pg_dump -Fc: ${ratio(`dbsnap -j${j}`, 'pg_dump -Fc')}; / pg_dump -Fd -j${j}: ${ratio(`dbsnap -j${j}`, `pg_dump -Fd -j${j}`)}; / dbsnap -j1: ${ratio(`dbsnap -j${j}`, 'dbsnap -j1')}`,
        ]),
    ]
    return { lines, results: { database, measured } }
  } finally {
    await dropDatabase(DATABASE)
  }
}

async function mysql(): Promise<{ lines: string[]; results: unknown }> {
  const name = `${DATABASE}_mysql`
  await createMysqlDatabase(name)
  try {
    const database = await generateMysql(name)
    const url = mysqlDatabaseUrl(name)
    const repo = `${TMP}/${BENCH}-mysql-repo`
    const dump = `${TMP}/${BENCH}.sql.gz`
    const tools: Record<string, () => Promise<Sample>> = {}
    for (const jobs of [1, maxJobs]) tools[`dbsnap -j${jobs}`] = dbsnapTool(url, repo, jobs)
    tools['mysqldump | gzip'] = async () => {
      await rm(dump, { force: true })
      // GNU time would measure only the shell: the CPU here is mysqldump's and gzip's own.
      const seconds = await mysqldumpGzip(name, dump)
      const { size } = await stat(dump)
      await rm(dump, { force: true })
      return { seconds, cpuSeconds: NaN, peakRssMiB: NaN, bytes: size }
    }
    const measured = await compare('mysql', tools)
    const ratio = (a: string, b: string): number =>
      round(median(pairRatios(measured[a]!.samples, measured[b]!.samples)), 2)
    const lines = [
      `mariadb ${await mysqlServerVersion()}: ${database.tables} tables, ${database.rows.toLocaleString('en-US')} rows; median (min–max) of ${runs} runs`,
      ...Object.entries(measured).map(
        ([tool, m]) =>
          `  ${tool.padEnd(16)} wall ${formatSpread(m.seconds)} s, ${(m.samples[0]!.bytes / 2 ** 20).toFixed(1)} MiB written`,
      ),
      `  dbsnap -j1 / mysqldump: ${ratio('dbsnap -j1', 'mysqldump | gzip')}; dbsnap -j${maxJobs} / mysqldump: ${ratio(`dbsnap -j${maxJobs}`, 'mysqldump | gzip')}; / dbsnap -j1: ${ratio(`dbsnap -j${maxJobs}`, 'dbsnap -j1')}`,
    ]
    return { lines, results: { database, measured } }
  } finally {
    await dropMysqlDatabase(name)
  }
}

/** a / b of the runs' wall seconds, run by run (the same pass, minutes apart at most). */
function pairRatios(a: Sample[], b: Sample[]): number[] {
  return a.map((s, i) => s.seconds / b[i]!.seconds)
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const pg = await postgres()
  const my = values['no-mysql'] ? null : await mysql()
  saveResults(BENCH, startedAt, {
    machine,
    params: { tables: tableCount, rows: totalRows, runs, jobs: jobList },
    results: { postgres: pg.results, mysql: my?.results ?? null },
    summary: [...pg.lines, ...(my?.lines ?? [])],
  })
}

await main()
