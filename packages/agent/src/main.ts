// Starts dbsnap-agent: read settings, serve health probes, stop cleanly on SIGTERM.
// Job pulling and schedules arrive with the agent issue; until then the agent reports itself
// not ready, so no orchestrator routes work to it.

import { createLogger, isDbsnapError } from '@dbsnap/engine'
import { loadAgentConfig } from './config.js'
import { startHealthServer } from './health.js'

export async function main(): Promise<void> {
  let config
  try {
    config = loadAgentConfig()
  } catch (err) {
    if (!isDbsnapError(err)) throw err
    process.stderr.write(`dbsnap-agent: ${err.message}\n`)
    process.exit(2)
  }
  const logger = createLogger({
    name: 'dbsnap-agent',
    level: config.LOG_LEVEL,
    fd: 1,
    ...(config.LOG_FORMAT === undefined ? {} : { format: config.LOG_FORMAT }),
  })
  const health = await startHealthServer(
    { notReadyReason: () => 'not registered with the control plane yet' },
    config.DBSNAP_AGENT_HEALTH_HOST,
    config.DBSNAP_AGENT_HEALTH_PORT,
  )
  logger.info(
    { controlPlane: new URL(config.DBSNAP_CONTROL_PLANE_URL).origin, healthPort: health.port },
    'agent started',
  )
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down')
    void health.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
