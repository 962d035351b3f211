// Runs a checked job spec in this thread: one handler per kind, each mapping its operation's
// progress onto the job's events.

import type { Logger } from 'pino'
import type { ConnectionTestResult } from '../adapters/test-connection.js'
import type { RestoreResult } from '../restore/restore.js'
import type { PruneResult } from '../retention/prune.js'
import type { SnapshotResult } from '../snapshot/snapshot.js'
import type { VerifyResult } from '../verify/verify.js'
import type { JobSinks } from './context.js'
import { runConnectionTestJob } from './connection-job.js'
import { runDiffJob, type DiffJobResult } from './diff-job.js'
import { JobProgress, type JobEvent, type JobUnit } from './events.js'
import { runExportJob, type ExportJobResult } from './export-job.js'
import { runForgetJob, runPruneJob, runVerifyJob, type ForgetJobResult } from './repository-jobs.js'
import { runRestoreJob } from './restore-job.js'
import { runSnapshotJob } from './snapshot-job.js'
import type { JobKind, JobSpecOf } from './spec.js'

/** What each kind of job returns; every one JSON-serializable. */
export interface JobResults {
  snapshot: SnapshotResult
  diff: DiffJobResult
  restore: RestoreResult
  verify: VerifyResult
  forget: ForgetJobResult
  prune: PruneResult
  export: ExportJobResult
  'connection-test': ConnectionTestResult
}

export type JobResult<K extends JobKind = JobKind> = JobResults[K]

type Handler<K extends JobKind> = (
  spec: JobSpecOf<K>,
  context: Parameters<typeof runSnapshotJob>[1],
) => Promise<JobResults[K]>

const HANDLERS: { [K in JobKind]: { unit: JobUnit; run: Handler<K> } } = {
  snapshot: { unit: 'rows', run: runSnapshotJob },
  diff: { unit: 'changes', run: runDiffJob },
  restore: { unit: 'rows', run: runRestoreJob },
  verify: { unit: 'objects', run: runVerifyJob },
  forget: { unit: 'snapshots', run: runForgetJob },
  prune: { unit: 'objects', run: runPruneJob },
  export: { unit: 'rows', run: runExportJob },
  'connection-test': { unit: 'objects', run: runConnectionTestJob },
}

/** Runs `spec` (already checked) here; the last event has phase `done`. */
export async function executeJob<K extends JobKind>(
  spec: JobSpecOf<K>,
  options: JobSinks & {
    signal: AbortSignal
    logger: Logger
    onEvent?: (event: JobEvent) => void
  },
): Promise<JobResults[K]> {
  const handler = HANDLERS[spec.kind]
  const progress = new JobProgress(spec.kind, handler.unit, options.onEvent)
  progress.phase('starting')
  const result = await handler.run(spec, { ...options, progress })
  progress.finish()
  return result
}
