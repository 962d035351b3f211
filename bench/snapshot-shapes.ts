// Snapshot against pg_dump -Fc on tables of different shapes (text-, jsonb-, numeric-heavy, wide
// rows, the table of issue 12) and on the many-small-tables database, in paired runs. Run:
// node bench/snapshot-shapes.ts [--size-mb 100] [--runs 3] [--shapes issue,text,jsonb,numeric,wide,small]

import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { postgresDataDirectory, requireFreeSpace } from './lib/disk.ts'
import { fillTable } from './lib/generate.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, saveResults } from './lib/results.ts'
import { SHAPES } from './lib/shapes.ts'
import { generateSmallDatabase } from './lib/small-db.ts'
import { summarizeVersus, versusPgDump, type VersusPgDump } from './lib/versus-pg-dump.ts'

const BENCH = 'snapshot-shapes'
const TABLE = 'shape_rows'

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    shapes: { type: 'string', default: [...Object.keys(SHAPES), 'small'].join(',') },
  },
})
const sizeMiB = Number(values['size-mb'])
const runs = Number(values.runs)
const shapes = values.shapes.split(',')
for (const shape of shapes) {
  if (shape !== 'small' && !(shape in SHAPES)) {
    throw new Error(
      `unknown shape ${shape}: expected some of ${Object.keys(SHAPES).join(', ')}, small`,
    )
  }
}

/** Generates one shape in its own database, measures it, and drops the database. */
async function measureShape(shape: string): Promise<{ generated: unknown; versus: VersusPgDump }> {
  const database = `dbsnap_bench_shape_${shape}`
  const url = await createDatabase(database)
  try {
    progress(`generating ${shape}`)
    const generated =
      shape === 'small'
        ? await generateSmallDatabase(url)
        : await fillTable(url, TABLE, SHAPES[shape]!.recipe, { targetBytes: sizeMiB * MiB })
    return { generated, versus: await versusPgDump(url, { runs, label: `${BENCH}-${shape}` }) }
  } finally {
    await dropDatabase(database)
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const dataDir = await postgresDataDirectory()
  requireFreeSpace([
    { what: 'dump + repository', path: TMP, bytes: sizeMiB * MiB * 2 },
    ...(dataDir === null
      ? []
      : [{ what: 'table + WAL', path: dataDir, bytes: sizeMiB * MiB * 2 + 2 ** 30 }]),
  ])
  const machine = await describeMachine()
  const results: Record<string, unknown> = {}
  const summary = [
    `${BENCH}: about ${sizeMiB} MiB a table; median (min–max) of ${runs} paired runs`,
  ]
  for (const shape of shapes) {
    const { generated, versus } = await measureShape(shape)
    const description =
      shape === 'small' ? 'the many-small-tables database' : SHAPES[shape]!.description
    results[shape] = { description, generated, ...versus }
    summary.push(...summarizeVersus(shape, versus))
  }
  saveResults(BENCH, startedAt, { machine, params: { sizeMiB, runs, shapes }, results, summary })
}

await main()
