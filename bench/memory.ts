// Peak RSS of the `dbsnap snapshot` process for generated tables of each size, to local disk and
// to S3: it must stay bounded. Run: node bench/memory.ts [--sizes 200,2048] [--no-s3]

import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { removeRepository, snapshotPeakRss } from './lib/dbsnap.ts'
import { postgresDataDirectory, requireFreeSpace } from './lib/disk.ts'
import { generateTable } from './lib/generate.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'
import { s3Target } from './lib/services.ts'

const BENCH = 'memory'
const DATABASE = 'dbsnap_bench_memory'
const TABLE = 'bench_rows'
const LIMIT_MiB = 256

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,2048' },
    s3: { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const sizesMiB = values.sizes.split(',').map(Number)
const s3 = values.s3 ? s3Target() : null

interface Measurement {
  sizeMiB: number
  target: 'local' | 's3'
  rows: number
  tableBytes: number
  canonicalBytes: number
  seconds: number
  peakRssMiB: number
}

async function measureSize(sizeMiB: number): Promise<Measurement[]> {
  const url = await createDatabase(DATABASE)
  try {
    const table = await generateTable(url, TABLE, { targetBytes: sizeMiB * MiB })
    const targets = [
      { target: 'local' as const, repo: `${TMP}/${BENCH}-repo`, env: {} },
      ...(s3 === null
        ? []
        : [{ target: 's3' as const, repo: `${s3.base}/${BENCH}-${process.pid}`, env: s3.env }]),
    ]
    const measurements: Measurement[] = []
    for (const { target, repo, env } of targets) {
      progress(`snapshot of ${(table.heapBytes / MiB).toFixed(0)} MiB to ${target}…`)
      await removeRepository(repo, env)
      const { run, peakRssMiB } = await snapshotPeakRss(url, repo, { env })
      await removeRepository(repo, env)
      progress(`  peak RSS ${peakRssMiB.toFixed(0)} MiB, ${run.seconds.toFixed(1)} s`)
      const { rows, bytes } = run.result.totals
      measurements.push({
        sizeMiB,
        target,
        rows,
        tableBytes: table.heapBytes,
        canonicalBytes: bytes,
        seconds: round(run.seconds),
        peakRssMiB: round(peakRssMiB, 1),
      })
    }
    return measurements
  } finally {
    await dropDatabase(DATABASE)
  }
}

function summarize(measurements: Measurement[]): string[] {
  const lines = measurements.map(
    (m) =>
      `  ${(m.tableBytes / MiB).toFixed(0).padStart(6)} MiB table → ${m.target.padEnd(5)}: peak RSS ${m.peakRssMiB.toFixed(0)} MiB ` +
      `(${m.peakRssMiB < LIMIT_MiB ? 'ok' : 'OVER'} < ${LIMIT_MiB}), ${m.seconds} s`,
  )
  const growth = (['local', 's3'] as const).flatMap((target) => {
    const of = measurements.filter((m) => m.target === target)
    const [first, last] = [of[0], of.at(-1)]
    if (first === undefined || last === undefined || of.length < 2) return []
    return [
      `  ${target}: ×${(last.tableBytes / first.tableBytes).toFixed(1)} data → ×${(last.peakRssMiB / first.peakRssMiB).toFixed(2)} peak RSS`,
    ]
  })
  return [
    `${BENCH}: peak RSS of dbsnap snapshot (target < ${LIMIT_MiB} MiB, not growing with size)`,
    ...lines,
    ...growth,
  ]
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const largest = Math.max(...sizesMiB) * MiB
  const dataDir = await postgresDataDirectory()
  requireFreeSpace([
    { what: 'local repository', path: TMP, bytes: largest },
    ...(dataDir === null
      ? []
      : [{ what: 'table + index + WAL', path: dataDir, bytes: largest * 2 + 2 * 2 ** 30 }]),
  ])
  const machine = await describeMachine()
  const measurements: Measurement[] = []
  for (const sizeMiB of sizesMiB) measurements.push(...(await measureSize(sizeMiB)))
  saveResults(BENCH, startedAt, {
    machine,
    params: { sizesMiB, limitMiB: LIMIT_MiB, s3: s3?.base ?? null },
    results: { measurements },
    summary: summarize(measurements),
  })
}

await main()
