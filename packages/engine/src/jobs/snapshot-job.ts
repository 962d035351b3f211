// The snapshot job: a `createSnapshot` of the spec's source into the spec's repository, its
// per-table progress summed into the job's events.

import { parseCodec, type CodecSpec } from '../repository/codec.js'
import type { Repository } from '../repository/repository.js'
import {
  createSnapshot,
  startConnecting,
  type PendingConnection,
  type SnapshotResult,
} from '../snapshot/snapshot.js'
import { openRepository, type JobContext, type JobSinks } from './context.js'
import { TableSums } from './events.js'
import type { SnapshotJobSpec } from './spec.js'

export async function runSnapshotJob(
  spec: SnapshotJobSpec,
  { signal, logger, progress }: JobContext,
): Promise<SnapshotResult> {
  // The database is connected to, and its schema read, while the repository is opened and
  // locked: on a small database the two are a good part of the time before the first row
  // (decisions 0027 and 0040).
  const compression = spec.compression === undefined ? undefined : parseCodec(spec.compression)
  const connection = startConnecting(spec.source, { signal, logger })
  const repository = openRepository(spec.repository, { ...spec, signal })
  try {
    return await snapshotInto(repository, connection, compression, spec, {
      signal,
      logger,
      progress,
    })
  } finally {
    await (await repository.catch(() => undefined))?.close()
  }
}

async function snapshotInto(
  repository: Promise<Repository>,
  connection: PendingConnection,
  compression: CodecSpec | undefined,
  spec: SnapshotJobSpec,
  { signal, logger, progress }: Omit<JobContext, keyof JobSinks>,
): Promise<SnapshotResult> {
  const sums = new TableSums()
  const result = await createSnapshot({
    source: spec.source,
    connection,
    repository,
    name: spec.name,
    tables: spec.tables,
    exclude: spec.exclude,
    compression,
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
}
