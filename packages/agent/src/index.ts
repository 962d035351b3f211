// Public API of the agent package, for embedding (the control plane's embedded agent) and tests.

export { loadAgentConfig, stateDir } from './config.js'
export type { AgentConfig } from './config.js'
export { Autoscaler, parseAutoscale } from './autoscaler.js'
export type { AutoscaleRange, AutoscalerOptions } from './autoscaler.js'
export { ControlPlaneCallError, ControlPlaneClient } from './control-plane-client.js'
export type {
  AgentQueue,
  AgentSchedule,
  JobFailure,
  LeasedJob,
  LocalJobReport,
} from './control-plane-client.js'
export { startHealthServer } from './health.js'
export type { HealthServer, HealthState, MetricsSource } from './health.js'
export { runScheduleLocally } from './local-runs.js'
export { AgentMetrics } from './metrics.js'
export type { JobOutcome, RunnerObserver } from './metrics.js'
export { Outbox } from './outbox.js'
export type { OutboxEntry } from './outbox.js'
export { withDeferrablePrune } from './retention-run.js'
export { Runner } from './runner.js'
export { dueTick } from './schedule-clock.js'
export { Scheduler } from './scheduler.js'
export type { SchedulerOptions } from './scheduler.js'
export type { RunJob, RunnerOptions } from './runner.js'
export { DiffUpload } from './diff-upload.js'
export type { DiffUploadOptions, UploadedDiffResult } from './diff-upload.js'
