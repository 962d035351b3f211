// Snapshot time and size against pg_dump -Fc and the COPY floor, measured in the same run. Run:
// node bench/snapshot-vs-pg-dump.ts [--size-mb 200] [--runs 3] [--compression zstd:3] [--no-s3]

import { mkdirSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { snapshotSample } from './lib/dbsnap.ts'
import { postgresDataDirectory, requireFreeSpace } from './lib/disk.ts'
import { generateTable, type GeneratedTable } from './lib/generate.ts'
import { copyToDevNull, createDatabase, dropDatabase } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'
import { run } from './lib/run.ts'
import { s3Target } from './lib/services.ts'

const BENCH = 'snapshot-vs-pg-dump'
const DATABASE = 'dbsnap_bench_snapshot'
const TABLE = 'bench_rows'
const DUMP = `${TMP}/${BENCH}.dump`

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    compression: { type: 'string' },
    s3: { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const sizeMiB = Number(values['size-mb'])
/** Passed to `dbsnap snapshot --compression`; default: the repository's default codec. */
const compression = values.compression
const runs = Number(values.runs)
const s3 = values.s3 ? s3Target() : null

/** One measurement of a tool: wall seconds, its output's size, and for dbsnap its own report. */
interface Sample {
  seconds: number
  bytes?: number
  inProcessSeconds?: number
  canonicalBytes?: number
}
type Tool = 'copy' | 'pgDump' | 'dbsnapLocal' | 'dbsnapS3'

/** `dbsnap snapshot` into a fresh repository, whose size is then read and which is then removed. */
function dbsnapInto(url: string, repo: string, env: NodeJS.ProcessEnv = {}): Promise<Sample> {
  return snapshotSample(url, repo, {
    env,
    extra: compression === undefined ? [] : ['--compression', compression],
  })
}

async function pgDump(url: string): Promise<Sample> {
  await rm(DUMP, { force: true })
  const { seconds } = await run('pg_dump', ['-Fc', '-f', DUMP, '-d', url])
  return { seconds, bytes: statSync(DUMP).size }
}

function tools(url: string): [Tool, () => Promise<Sample>][] {
  const list: [Tool, () => Promise<Sample>][] = [
    ['copy', async () => ({ seconds: await copyToDevNull(url, TABLE) })],
    ['pgDump', () => pgDump(url)],
    ['dbsnapLocal', () => dbsnapInto(url, `${TMP}/${BENCH}-repo`)],
  ]
  if (s3 !== null) {
    list.push(['dbsnapS3', () => dbsnapInto(url, `${s3.base}/${BENCH}-${process.pid}`, s3.env)])
  }
  return list
}

/** Pass 0 warms the page cache and every tool's files; passes 1..runs are timed, interleaved. */
async function measureAll(url: string): Promise<Partial<Record<Tool, Sample[]>>> {
  const samples: Partial<Record<Tool, Sample[]>> = {}
  for (let pass = 0; pass <= runs; pass++) {
    for (const [tool, measure] of tools(url)) {
      const sample = await measure()
      progress(
        `${pass === 0 ? 'warm-up' : `run ${pass}/${runs}`} ${tool}: ${sample.seconds.toFixed(2)} s`,
      )
      if (pass > 0) (samples[tool] ??= []).push(sample)
    }
  }
  return samples
}

function report(table: GeneratedTable, samples: Partial<Record<Tool, Sample[]>>) {
  const time = (tool: Tool): number => median(samples[tool]?.map((s) => s.seconds) ?? [NaN])
  const bytes = (tool: Tool): number => samples[tool]?.[0]?.bytes ?? NaN
  const snap = time('dbsnapLocal')
  const canonicalBytes = samples.dbsnapLocal?.[0]?.canonicalBytes ?? NaN
  const perSecond = (seconds: number): number => round(table.heapBytes / MiB / seconds, 1)
  const results = {
    table,
    canonicalBytes,
    medianSeconds: {
      copy: round(time('copy'), 3),
      pgDump: round(time('pgDump'), 3),
      dbsnapLocal: round(snap, 3),
      dbsnapLocalInProcess: round(
        median(samples.dbsnapLocal?.map((s) => s.inProcessSeconds ?? NaN) ?? []),
        3,
      ),
      dbsnapS3: s3 === null ? null : round(time('dbsnapS3'), 3),
    },
    bytes: { pgDump: bytes('pgDump'), repository: bytes('dbsnapLocal') },
    ratios: {
      snapshotToPgDumpTime: round(snap / time('pgDump'), 3),
      repositoryToPgDumpSize: round(bytes('dbsnapLocal') / bytes('pgDump'), 3),
      snapshotToCopyTime: round(snap / time('copy'), 3),
      s3SnapshotToPgDumpTime: s3 === null ? null : round(time('dbsnapS3') / time('pgDump'), 3),
    },
    throughputMiBps: {
      dbsnapLocal: perSecond(snap),
      dbsnapLocalCanonical: round(canonicalBytes / MiB / snap, 1),
      dbsnapS3: s3 === null ? null : perSecond(time('dbsnapS3')),
      pgDump: perSecond(time('pgDump')),
      copy: perSecond(time('copy')),
    },
    samples,
  }
  const { ratios: r, throughputMiBps: mbps } = results
  const summary = [
    `${BENCH}: ${(table.heapBytes / MiB).toFixed(0)} MiB table, ${table.rows.toLocaleString('en-US')} rows, compression ${compression ?? 'default'}, median of ${runs}`,
    `  seconds: dbsnap ${snap.toFixed(2)} local, ${s3 === null ? '-' : time('dbsnapS3').toFixed(2)} S3; pg_dump -Fc ${time('pgDump').toFixed(2)}; COPY floor ${time('copy').toFixed(2)}`,
    `  snapshot/pg_dump time ${r.snapshotToPgDumpTime} (target <= 1.0); repo/pg_dump size ${r.repositoryToPgDumpSize} (target <= 1.0); snapshot/COPY time ${r.snapshotToCopyTime}`,
    `  MiB/s of table: dbsnap ${mbps.dbsnapLocal} local, ${mbps.dbsnapS3 ?? '-'} S3; pg_dump ${mbps.pgDump}; COPY ${mbps.copy}` +
      (s3 === null ? '' : `; S3 snapshot/pg_dump time ${r.s3SnapshotToPgDumpTime}`),
  ]
  return { results, summary }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const dataDir = await postgresDataDirectory()
  const bytes = sizeMiB * MiB
  requireFreeSpace([
    { what: 'dump + repository', path: TMP, bytes: bytes * 2 },
    ...(dataDir === null
      ? []
      : [{ what: 'table + WAL', path: dataDir, bytes: bytes * 2 + 2 ** 30 }]),
  ])
  const machine = await describeMachine()
  const url = await createDatabase(DATABASE)
  try {
    const table = await generateTable(url, TABLE, { targetBytes: bytes })
    const samples = await measureAll(url)
    const { results, summary } = report(table, samples)
    const params = {
      sizeMiB,
      runs,
      compression: compression ?? 'default',
      pgDumpFormat: '-Fc (default zlib level)',
      s3: s3?.base ?? null,
    }
    saveResults(BENCH, startedAt, { machine, params, results, summary })
  } finally {
    await dropDatabase(DATABASE)
    await rm(DUMP, { force: true })
  }
}

await main()
