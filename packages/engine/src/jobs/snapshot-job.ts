// The snapshot job: a `createSnapshot` of the spec's source into the spec's repository, its
// per-table progress summed into the job's events.

import { parseCodec } from '../repository/codec.js'
import { createSnapshot, type SnapshotResult } from '../snapshot/snapshot.js'
import { withRepository, type JobContext } from './context.js'
import { TableSums } from './events.js'
import type { SnapshotJobSpec } from './spec.js'

export async function runSnapshotJob(
  spec: SnapshotJobSpec,
  { signal, logger, progress }: JobContext,
): Promise<SnapshotResult> {
  return withRepository(spec.repository, { ...spec, signal }, async (repository) => {
    const sums = new TableSums()
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
        const { rows: rowsDone, ...counters } = sums.set(table, {
          rows,
          bytes,
          storedBytes,
          chunksNew,
          chunksReused,
          tablesDone: done ? 1 : 0,
        })
        if (!done) progress.table(table)
        progress.update(rowsDone ?? 0, counters)
      },
    })
    progress.phase('finishing')
    return result
  })
}
