// Peak RSS of every dbsnap command that reads or writes a whole table, for generated tables of
// each size, to local disk and to S3: it must stay bounded. Run: node bench/memory.ts
// [--sizes 200,2048] [--no-s3] [--no-local] [--commands snapshot,unchanged,delta,diff,verify,restore,export-ndjson,export-sql]

import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { SnapshotResult } from '@dbsnap/engine'
import { removeRepository } from './lib/dbsnap.ts'
import { postgresDataDirectory, requireFreeSpace } from './lib/disk.ts'
import { generateTable } from './lib/generate.ts'
import { dbsnapPeakRss, type PeakRssRun } from './lib/peak-rss.ts'
import { createDatabase, dropDatabase, psql } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'
import { s3Target } from './lib/services.ts'

const BENCH = 'memory'
const DATABASE = 'dbsnap_bench_memory'
const TABLE = 'bench_rows'
const LIMIT_MiB = 256

/** What is measured, in the order it runs; each later one needs the snapshots before it. */
const COMMANDS = [
  'snapshot',
  'unchanged',
  'delta',
  'diff',
  'verify',
  'restore',
  'export-ndjson',
  'export-sql',
] as const
type Command = (typeof COMMANDS)[number]

const DESCRIPTIONS: Record<Command, string> = {
  snapshot: 'snapshot, full (fresh repository)',
  unchanged: 'snapshot, unchanged',
  delta: 'snapshot after 1% scattered updates',
  diff: 'diff unchanged → delta (ndjson)',
  verify: 'verify --all --read-data-subset 100%',
  restore: 'restore delta into an empty database',
  'export-ndjson': 'export delta --format ndjson',
  'export-sql': 'export delta --format sql',
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,2048' },
    s3: { type: 'boolean', default: true },
    local: { type: 'boolean', default: true },
    commands: { type: 'string', default: COMMANDS.join(',') },
  },
  allowNegative: true,
})
const sizesMiB = values.sizes.split(',').map(Number)
const s3 = values.s3 ? s3Target() : null
const selected = new Set(values.commands.split(','))
for (const name of selected) {
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw new Error(`--commands: unknown command ${name}; expected some of ${COMMANDS.join(',')}`)
  }
}
/** The last selected command: the setup steps before it run even when not selected. */
const lastIndex = Math.max(...COMMANDS.map((c, i) => (selected.has(c) ? i : -1)))
const runs = (command: Command): boolean => COMMANDS.indexOf(command) <= lastIndex

interface Measurement {
  command: Command
  sizeMiB: number
  target: 'local' | 's3'
  rows: number
  tableBytes: number
  seconds: number
  peakRssMiB: number
}

/**
 * `UPDATE` of ~1% of the rows, chosen by a hash of the id, so that every chunk holds some and
 * the next snapshot stores every chunk as a delta. Returns the rows updated.
 */
async function scatteredUpdate(url: string): Promise<number> {
  const sql = `UPDATE ${TABLE} SET amount = amount + 1 WHERE hashint8extended(id, 101) % 100 = 0`
  return Number(await psql(url, `WITH c AS (${sql} RETURNING 1) SELECT count(*) FROM c`))
}

/** Runs each command on one repository, in order; `record` keeps the selected ones. */
async function measureTarget(
  url: string,
  sizeMiB: number,
  target: { target: 'local' | 's3'; repo: string; env: NodeJS.ProcessEnv },
  record: (command: Command, run: PeakRssRun) => void,
): Promise<void> {
  const { repo, env } = target
  const withRepo = (args: string[]): string[] => [...args, '--repo', repo]
  const snapshot = async (command: Command): Promise<string> => {
    const run = await dbsnapPeakRss(withRepo(['snapshot', url, '--json']), { env })
    record(command, run)
    return (JSON.parse(run.stdout) as SnapshotResult).id
  }
  await removeRepository(repo, env)
  try {
    await snapshot('snapshot')
    if (!runs('unchanged')) return
    const unchanged = await snapshot('unchanged')
    if (!runs('delta')) return
    const updated = await scatteredUpdate(url)
    progress(`  updated ${updated.toLocaleString('en-US')} rows`)
    const delta = await snapshot('delta')
    if (!runs('diff')) return
    const diffArgs = ['diff', unchanged, delta, '--format', 'ndjson']
    record('diff', await dbsnapPeakRss(withRepo(diffArgs), { env, stdout: 'ignore' }))
    if (!runs('verify')) return
    const verifyArgs = ['verify', '--all', '--read-data-subset', '100%']
    record('verify', await dbsnapPeakRss(withRepo(verifyArgs), { env, stdout: 'ignore' }))
    if (!runs('restore')) return
    const copy = `${DATABASE}_${sizeMiB}_to`
    const to = await createDatabase(copy)
    try {
      record('restore', await dbsnapPeakRss(withRepo(['restore', delta, '--to', to]), { env }))
    } finally {
      await dropDatabase(copy)
    }
    for (const format of ['ndjson', 'sql'] as const) {
      if (!runs(`export-${format}`)) return
      const out = `${TMP}/${BENCH}-${sizeMiB}-export.${format}`
      const args = ['export', delta, '--format', format, '--out', out]
      try {
        record(`export-${format}`, await dbsnapPeakRss(withRepo(args), { env }))
      } finally {
        await rm(out, { force: true })
      }
    }
  } finally {
    await removeRepository(repo, env)
  }
}

async function measureSize(sizeMiB: number): Promise<Measurement[]> {
  // The size in the names lets runs of different sizes share the machine without colliding.
  const database = `${DATABASE}_${sizeMiB}`
  const url = await createDatabase(database)
  try {
    const table = await generateTable(url, TABLE, { targetBytes: sizeMiB * MiB })
    const targets = [
      ...(values.local
        ? [{ target: 'local' as const, repo: `${TMP}/${BENCH}-${sizeMiB}-repo`, env: {} }]
        : []),
      ...(s3 === null
        ? []
        : [
            {
              target: 's3' as const,
              repo: `${s3.base}/${BENCH}-${process.pid}-${sizeMiB}`,
              env: s3.env,
            },
          ]),
    ]
    const measurements: Measurement[] = []
    for (const target of targets) {
      progress(`${(table.heapBytes / MiB).toFixed(0)} MiB table, ${target.target}:`)
      await measureTarget(url, sizeMiB, target, (command, run) => {
        progress(
          `  ${DESCRIPTIONS[command].padEnd(40)} peak RSS ${run.peakRssMiB.toFixed(0)} MiB, ${run.seconds.toFixed(1)} s`,
        )
        if (!selected.has(command)) return
        measurements.push({
          command,
          sizeMiB,
          target: target.target,
          rows: table.rows,
          tableBytes: table.heapBytes,
          seconds: round(run.seconds),
          peakRssMiB: round(run.peakRssMiB, 1),
        })
      })
    }
    return measurements
  } finally {
    await dropDatabase(database)
  }
}

/** One line per command and storage: peak RSS at each size, ok/OVER, growth smallest → largest. */
function summarize(measurements: Measurement[]): string[] {
  const sizes = [...new Set(measurements.map((m) => m.tableBytes))]
  const header =
    `  ${'command'.padEnd(40)} ${'storage'.padEnd(7)} ` +
    sizes.map((bytes) => `${(bytes / MiB).toFixed(0).padStart(5)} MiB`.padEnd(16)).join(' ') +
    (sizes.length > 1 ? ' growth' : '')
  const lines = COMMANDS.flatMap((command) =>
    (['local', 's3'] as const).flatMap((target) => {
      const of = measurements.filter((m) => m.command === command && m.target === target)
      const [first, last] = [of[0], of.at(-1)]
      if (first === undefined || last === undefined) return []
      const cells = sizes.map((bytes) => {
        const m = of.find((x) => x.tableBytes === bytes)
        if (m === undefined) return '–'.padEnd(16)
        const verdict = m.peakRssMiB < LIMIT_MiB ? 'ok' : 'OVER'
        return `${m.peakRssMiB.toFixed(0).padStart(5)} MiB ${verdict}`.padEnd(16)
      })
      const growth = of.length > 1 ? ` ×${(last.peakRssMiB / first.peakRssMiB).toFixed(2)}` : ''
      return [
        `  ${DESCRIPTIONS[command].padEnd(40)} ${target.padEnd(7)} ${cells.join(' ')}${growth}`,
      ]
    }),
  )
  const title = `${BENCH}: peak RSS of each dbsnap command (target < ${LIMIT_MiB} MiB, not growing with size)`
  // Cells are padded to line up; the padding of the last one is not kept.
  return [title, header, ...lines].map((line) => line.trimEnd())
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const largest = Math.max(...sizesMiB) * MiB
  const dataDir = await postgresDataDirectory()
  requireFreeSpace([
    // The repository, and the largest export next to it (SQL text is about the table's size).
    { what: 'local repository and export', path: TMP, bytes: largest * 2 },
    ...(dataDir === null
      ? []
      : [
          // Table, index, WAL, the 1% update's new row versions and the restored copy.
          { what: 'table, copy + WAL', path: dataDir, bytes: largest * 3 + 2 * 2 ** 30 },
        ]),
  ])
  const machine = await describeMachine()
  const measurements: Measurement[] = []
  for (const sizeMiB of sizesMiB) measurements.push(...(await measureSize(sizeMiB)))
  saveResults(BENCH, startedAt, {
    machine,
    params: { sizesMiB, commands: [...selected], limitMiB: LIMIT_MiB, s3: s3?.base ?? null },
    results: { measurements },
    summary: summarize(measurements),
  })
}

await main()
