// Snapshot time and size of a MySQL/MariaDB table against `mysqldump --single-transaction
// --quick | gzip` and the SELECT floor, measured in the same run; then the peak RSS of a snapshot
// of a bigger table. Run:
// node bench/snapshot-vs-mysqldump.ts [--size-mb 250] [--runs 3] [--memory-mb 1024] [--compression zstd:3]

import { mkdirSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { removeRepository, snapshotPeakRss, snapshotSample } from './lib/dbsnap.ts'
import { requireFreeSpace } from './lib/disk.ts'
import {
  createMysqlDatabase,
  dropMysqlDatabase,
  generateMysqlTable,
  mysqlServerVersion,
  mysqldumpGzip,
  selectToDevNull,
  type GeneratedMysqlTable,
} from './lib/mysql.ts'
import { MiB, TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'snapshot-vs-mysqldump'
const DATABASE = 'dbsnap_bench_mysql'
const MEMORY_DATABASE = 'dbsnap_bench_mysql_memory'
const TABLE = 'bench_rows'
const DUMP = `${TMP}/${BENCH}.sql.gz`
const REPO = `${TMP}/${BENCH}-repo`
const RSS_LIMIT_MiB = 256

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '250' },
    runs: { type: 'string', default: '3' },
    'memory-mb': { type: 'string', default: '1024' },
    compression: { type: 'string' },
  },
})
const sizeMiB = Number(values['size-mb'])
const runs = Number(values.runs)
/** Table size for the peak-RSS measurement; 0 skips it. */
const memoryMiB = Number(values['memory-mb'])
/** Passed to `dbsnap snapshot --compression`; default: the repository's default codec. */
const compression = values.compression
const extra = compression === undefined ? [] : ['--compression', compression]

/** One measurement of a tool: wall seconds, its output's size, and for dbsnap its own report. */
interface Sample {
  seconds: number
  bytes?: number
  inProcessSeconds?: number
  canonicalBytes?: number
}
type Tool = 'select' | 'mysqldump' | 'dbsnap'

function dbsnapSample(url: string): Promise<Sample> {
  return snapshotSample(url, REPO, { extra })
}

async function mysqldumpSample(): Promise<Sample> {
  await rm(DUMP, { force: true })
  const seconds = await mysqldumpGzip(DATABASE, DUMP)
  return { seconds, bytes: statSync(DUMP).size }
}

/** Pass 0 warms the buffer pool and every tool's files; passes 1..runs are timed, interleaved. */
async function measureAll(url: string): Promise<Record<Tool, Sample[]>> {
  const tools: [Tool, () => Promise<Sample>][] = [
    ['select', async () => ({ seconds: await selectToDevNull(DATABASE, TABLE) })],
    ['mysqldump', mysqldumpSample],
    ['dbsnap', () => dbsnapSample(url)],
  ]
  const samples: Record<Tool, Sample[]> = { select: [], mysqldump: [], dbsnap: [] }
  for (let pass = 0; pass <= runs; pass++) {
    for (const [tool, measure] of tools) {
      const sample = await measure()
      progress(
        `${pass === 0 ? 'warm-up' : `run ${pass}/${runs}`} ${tool}: ${sample.seconds.toFixed(2)} s`,
      )
      if (pass > 0) samples[tool].push(sample)
    }
  }
  return samples
}

/** Peak RSS of `dbsnap snapshot` of a table of `memoryMiB`, as GNU time's %M (ru_maxrss). */
async function measureMemory(): Promise<{
  table: GeneratedMysqlTable
  seconds: number
  peakRssMiB: number
}> {
  const url = await createMysqlDatabase(MEMORY_DATABASE)
  try {
    const table = await generateMysqlTable(MEMORY_DATABASE, TABLE, {
      targetBytes: memoryMiB * MiB,
    })
    await removeRepository(REPO)
    const { run, peakRssMiB } = await snapshotPeakRss(url, REPO, { extra })
    await removeRepository(REPO)
    return { table, seconds: run.seconds, peakRssMiB: round(peakRssMiB, 1) }
  } finally {
    await dropMysqlDatabase(MEMORY_DATABASE)
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  requireFreeSpace([
    { what: 'dump + repository', path: TMP, bytes: sizeMiB * MiB * 2 },
    { what: 'generated tables', path: '/', bytes: (sizeMiB + memoryMiB) * MiB * 3 },
  ])
  const machine = { ...(await describeMachine()), mysql: await mysqlServerVersion() }
  const url = await createMysqlDatabase(DATABASE)
  let table: GeneratedMysqlTable
  let samples: Record<Tool, Sample[]>
  try {
    table = await generateMysqlTable(DATABASE, TABLE, { targetBytes: sizeMiB * MiB })
    samples = await measureAll(url)
  } finally {
    await dropMysqlDatabase(DATABASE)
    await rm(DUMP, { force: true })
  }
  const memory = memoryMiB > 0 ? await measureMemory() : null

  const time = (tool: Tool): number => median(samples[tool].map((s) => s.seconds))
  const bytes = (tool: Tool): number => samples[tool][0]?.bytes ?? NaN
  const snap = time('dbsnap')
  const perSecond = (seconds: number): number => round(table.dataBytes / MiB / seconds, 1)
  const results = {
    table,
    canonicalBytes: samples.dbsnap[0]?.canonicalBytes ?? NaN,
    medianSeconds: {
      select: round(time('select'), 3),
      mysqldumpGzip: round(time('mysqldump'), 3),
      dbsnap: round(snap, 3),
      dbsnapInProcess: round(median(samples.dbsnap.map((s) => s.inProcessSeconds ?? NaN)), 3),
    },
    bytes: { mysqldumpGzip: bytes('mysqldump'), repository: bytes('dbsnap') },
    ratios: {
      snapshotToMysqldumpTime: round(snap / time('mysqldump'), 3),
      repositoryToMysqldumpSize: round(bytes('dbsnap') / bytes('mysqldump'), 3),
      snapshotToSelectTime: round(snap / time('select'), 3),
    },
    throughputMiBps: {
      dbsnap: perSecond(snap),
      mysqldumpGzip: perSecond(time('mysqldump')),
      select: perSecond(time('select')),
    },
    memory,
    samples,
  }
  const r = results.ratios
  const summary = [
    `${BENCH}: ${(table.dataBytes / MiB).toFixed(0)} MiB InnoDB table, ${table.rows.toLocaleString('en-US')} rows, compression ${compression ?? 'default'}, median of ${runs}`,
    `  seconds: dbsnap ${snap.toFixed(2)}; mysqldump | gzip ${time('mysqldump').toFixed(2)}; SELECT floor ${time('select').toFixed(2)}`,
    `  snapshot/mysqldump time ${r.snapshotToMysqldumpTime} (target < 1.0); repo/dump.gz size ${r.repositoryToMysqldumpSize} (target <= 1.0); snapshot/SELECT time ${r.snapshotToSelectTime}`,
    memory === null
      ? '  peak RSS: not measured (--memory-mb 0)'
      : `  peak RSS of a snapshot of ${(memory.table.dataBytes / MiB).toFixed(0)} MiB (${memory.table.rows.toLocaleString('en-US')} rows): ${memory.peakRssMiB} MiB (target < ${RSS_LIMIT_MiB}) in ${memory.seconds.toFixed(1)} s`,
  ]
  const params = { sizeMiB, runs, memoryMiB, compression: compression ?? 'default' }
  saveResults(BENCH, startedAt, { machine, params, results, summary })
}

await main()
