// The job API: one way to run and watch every engine operation (docs/architecture.md, "Jobs").

export { runJob } from './run-job.js'
export type { RunJobOptions } from './run-job.js'
export { JOB_KINDS, JobSpec as JobSpecSchema, parseJobSpec } from './spec.js'
export type {
  ConnectionTestJobSpec,
  DiffJobSpec,
  ExportJobSpec,
  ForgetJobSpec,
  JobKind,
  JobSpec,
  JobSpecOf,
  PruneJobSpec,
  RestoreJobSpec,
  SnapshotJobSpec,
  VerifyJobSpec,
} from './spec.js'
export { EVENT_INTERVAL_MS } from './events.js'
export type { JobEvent, JobPhase, JobUnit } from './events.js'
export type { JobResult, JobResults } from './execute.js'
export type { DiffJobResult } from './diff-job.js'
export type { ExportJobResult } from './export-job.js'
export type { ForgetJobResult } from './repository-jobs.js'
