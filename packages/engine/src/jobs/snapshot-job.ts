// The snapshot job: a `createSnapshot` of the spec's source into the spec's repository, its
// per-table progress summed into the job's events.

import { parseCodec } from '../repository/codec.js'
import { createSnapshot, type SnapshotResult } from '../snapshot/snapshot.js'
import { withRepository, type JobContext } from './context.js'
import type { SnapshotJobSpec } from './spec.js'

export async function runSnapshotJob(
  spec: SnapshotJobSpec,
  { signal, logger, progress }: JobContext,
): Promise<SnapshotResult> {
  return withRepository(spec.repository, { ...spec, signal }, async (repository) => {
    // Per table, the latest cumulative figures: the job's are their sums.
    const tables = new Map<string, { rows: number; counters: Record<string, number> }>()
    const sum = (): { rows: number; counters: Record<string, number> } => {
      const counters = { bytes: 0, storedBytes: 0, chunksNew: 0, chunksReused: 0, tablesDone: 0 }
      let rows = 0
      for (const table of tables.values()) {
        rows += table.rows
        for (const [name, value] of Object.entries(table.counters)) {
          counters[name as keyof typeof counters] += value
        }
      }
      return { rows, counters }
    }
    const result = await createSnapshot({
      source: spec.source,
      repository,
      name: spec.name,
      tables: spec.tables,
      exclude: spec.exclude,
      compression: spec.compression === undefined ? undefined : parseCodec(spec.compression),
      tags: spec.tags,
      maxRowsPerSecond: spec.maxRowsPerSecond,
      jobs: spec.jobs,
      signal,
      logger,
      onProgress: (event) => {
        if (event.type === 'start') {
          const estimates = event.tables.map((t) => t.estimatedRows)
          progress.phase('reading', {
            unit: 'rows',
            total: estimates.every((n) => n !== null) ? estimates.reduce((a, b) => a + b, 0) : null,
          })
          progress.update(0, { tables: event.tables.length })
          return
        }
        const { table, rows, bytes, storedBytes, chunksNew, chunksReused, done } = event
        tables.set(table, {
          rows,
          counters: { bytes, storedBytes, chunksNew, chunksReused, tablesDone: done ? 1 : 0 },
        })
        if (!done) progress.table(table)
        const total = sum()
        progress.update(total.rows, total.counters)
      },
    })
    progress.phase('finishing')
    return result
  })
}
