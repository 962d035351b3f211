// Public API of the agent package, for embedding (the control plane's embedded agent) and tests.

export { loadAgentConfig, stateDir } from './config.js'
export type { AgentConfig } from './config.js'
export { ControlPlaneCallError, ControlPlaneClient } from './control-plane-client.js'
export type { JobFailure, LeasedJob } from './control-plane-client.js'
export { startHealthServer } from './health.js'
export type { HealthServer, HealthState } from './health.js'
export { Runner } from './runner.js'
export type { RunJob, RunnerOptions } from './runner.js'
export { DiffUpload } from './diff-upload.js'
export type { DiffUploadOptions, UploadedDiffResult } from './diff-upload.js'
