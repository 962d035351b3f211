// Public API of the agent package, for embedding and tests.

export { loadAgentConfig } from './config.js'
export type { AgentConfig } from './config.js'
export { startHealthServer } from './health.js'
export type { HealthServer, HealthState } from './health.js'
