// The restore job: a snapshot, whole or some tables, into the target database; or, with
// `onlyChanged`, only the rows that differ from it written back.

import { connectTarget } from '../adapters/connect.js'
import { redactUrl } from '../connection/url.js'
import { DbsnapError, isDbsnapError } from '../errors.js'
import { restoreChangedRows } from '../restore/only-changed.js'
import { restoreSnapshot, type RestoreProgress, type RestoreResult } from '../restore/restore.js'
import { resolveSnapshot } from '../snapshot/resolve-ref.js'
import { withRepository, type JobContext } from './context.js'
import { TableSums, type JobProgress } from './events.js'
import type { RestoreJobSpec } from './spec.js'

export async function runRestoreJob(
  spec: RestoreJobSpec,
  { signal, logger, progress }: JobContext,
): Promise<RestoreResult> {
  return withRepository(spec.repository, { signal }, async (repository) => {
    const snapshot = await resolveSnapshot(repository, spec.snapshot, { signal })
    logger.info({ snapshot: snapshot.id, to: redactUrl(spec.target) }, 'restore starting')
    const target = await connectTarget(spec.target, { signal, logger }).catch((err: unknown) => {
      throw withCreateHint(err)
    })
    try {
      const common = {
        repository,
        snapshot,
        target,
        tables: spec.tables,
        exclude: spec.exclude,
        dryRun: spec.dryRun,
        signal,
        logger,
        onProgress: restoreProgress(progress),
      }
      const result =
        spec.onlyChanged === true
          ? await restoreChangedRows({
              ...common,
              url: spec.target,
              maxRowsPerSecond: spec.maxRowsPerSecond,
            })
          : await restoreSnapshot({
              ...common,
              mode: spec.mode,
              onConflict: spec.onConflict,
              force: spec.force,
            })
      progress.phase('finishing')
      return result
    } finally {
      await target.close()
    }
  })
}

/** The restore's events as the job's: rows read (only-changed), then rows written of the plan. */
function restoreProgress(progress: JobProgress): (event: RestoreProgress) => void {
  const read = new TableSums()
  let written = 0
  const counters = { inserted: 0, updated: 0, skipped: 0, deleted: 0, tablesDone: 0 }
  return (event) => {
    switch (event.type) {
      case 'reading':
        progress.table(event.table)
        progress.update(0, read.set(event.table, { rowsRead: event.rows }))
        return
      case 'plan':
        progress.phase('writing', {
          unit: 'rows',
          total: event.tables.reduce((n, t) => n + t.rows, 0),
          done: 0,
        })
        progress.update(0, { tables: event.tables.length })
        return
      case 'table-start':
        progress.table(event.table)
        return
      case 'rows':
        written += event.rows
        progress.update(written)
        return
      case 'table-done':
        counters.inserted += event.result.inserted
        counters.updated += event.result.updated
        counters.skipped += event.result.skipped
        counters.deleted += event.result.deleted
        counters.tablesDone++
        progress.update(written, counters)
    }
  }
}

/** A restore does not create the database it restores into; say so where it is missing. */
function withCreateHint(err: unknown): unknown {
  if (!isDbsnapError(err) || err.code !== 'CONNECTION_DATABASE_NOT_FOUND') return err
  return new DbsnapError(
    err.code,
    `${err.message}; a restore does not create the database: create it first (CREATE DATABASE), then run the restore again`,
    { cause: err, details: err.details },
  )
}
