// dbsnap-agent: `register --url <control plane> --token <one-time token>` trades the token for
// the agent's own credential and keeps it (mode 0600); `run` pulls the project's jobs and runs
// them with the engine, serves /livez, /readyz and /metrics, and drains on SIGTERM; with
// `--autoscale min..max` its slots follow the project's queue (autoscaler.ts).

import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { runJob } from '@dbsnap/engine'
import {
  createLogger,
  DBSNAP_VERSION,
  DbsnapError,
  isDbsnapError,
  type Logger,
} from '@dbsnap/engine/core'
import { loadAgentConfig, stateDir, type AgentConfig } from './config.js'
import { ControlPlaneCallError, ControlPlaneClient } from './control-plane-client.js'
import { Autoscaler, parseAutoscale, type AutoscaleRange } from './autoscaler.js'
import { startHealthServer } from './health.js'
import { runScheduleLocally } from './local-runs.js'
import { Outbox } from './outbox.js'
import { withDeferrablePrune } from './retention-run.js'
import { AgentMetrics } from './metrics.js'
import { Runner } from './runner.js'
import { Scheduler } from './scheduler.js'
import { readAgentState, writeAgentState } from './state.js'

const USAGE = `usage: dbsnap-agent register --url <control plane URL> --token <registration token>
       dbsnap-agent run [--concurrency N | --autoscale min..max]`

/** Ready while the control plane answered within this long. */
const READY_WITHIN_MS = 90_000

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const [command, ...rest] = argv
  let config: AgentConfig
  try {
    config = loadAgentConfig()
  } catch (err) {
    return fail(err)
  }
  const logger = createLogger({
    name: 'dbsnap-agent',
    level: config.LOG_LEVEL,
    fd: 1,
    ...(config.LOG_FORMAT === undefined ? {} : { format: config.LOG_FORMAT }),
  })
  try {
    if (command === 'register') return await register(config, rest, logger)
    if (command === 'run') return await run(config, runArgs(config, rest), logger)
  } catch (err) {
    return fail(err)
  }
  process.stderr.write(`${USAGE}\n`)
  process.exit(2)
}

async function register(config: AgentConfig, args: string[], logger: Logger): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { url: { type: 'string' }, token: { type: 'string' } },
    strict: true,
  })
  const token = values.token ?? process.env['DBSNAP_AGENT_TOKEN']
  if (values.url === undefined || token === undefined) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(2)
  }
  const client = new ControlPlaneClient(values.url)
  const { agent, credential } = await client.register(token, {
    version: DBSNAP_VERSION,
    hostname: hostname(),
  })
  const path = await writeAgentState(stateDir(config), {
    controlPlaneUrl: new URL(values.url).origin,
    agentId: agent.id,
    projectId: agent.projectId,
    name: agent.name,
    credential,
    registeredAt: new Date().toISOString(),
  })
  logger.info({ agentId: agent.id, projectId: agent.projectId, state: path }, 'agent registered')
}

/**
 * `run`'s options: `--concurrency N` (else DBSNAP_AGENT_CONCURRENCY) and `--autoscale min..max`
 * (else DBSNAP_AGENT_AUTOSCALE), which starts at `min` slots instead.
 */
function runArgs(
  config: AgentConfig,
  args: string[],
): { autoscale: AutoscaleRange | undefined; concurrency: number } {
  const { values } = parseArgs({
    args,
    options: { autoscale: { type: 'string' }, concurrency: { type: 'string' } },
    strict: true,
  })
  const text = values.autoscale ?? config.DBSNAP_AGENT_AUTOSCALE
  const concurrency =
    values.concurrency === undefined ? config.DBSNAP_AGENT_CONCURRENCY : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new DbsnapError('INVALID_ARGUMENT', '--concurrency takes a whole number from 1 to 64')
  }
  return { autoscale: text === undefined ? undefined : parseAutoscale(text), concurrency }
}

async function run(
  config: AgentConfig,
  { autoscale, concurrency }: { autoscale: AutoscaleRange | undefined; concurrency: number },
  logger: Logger,
): Promise<void> {
  const dir = stateDir(config)
  const state = await readAgentState(dir)
  const client = new ControlPlaneClient(state.controlPlaneUrl, state.credential)
  const outbox = new Outbox(dir, client, logger)
  const metrics = new AgentMetrics()
  const runJobs = withDeferrablePrune(runJob)
  const runner = new Runner({
    client,
    runJob: runJobs,
    logger,
    repository: config.DBSNAP_AGENT_REPOSITORY,
    concurrency: autoscale?.min ?? concurrency,
    watchdogMs: config.DBSNAP_AGENT_WATCHDOG_SECONDS * 1000,
    exportLinkSeconds: config.DBSNAP_AGENT_EXPORT_LINK_SECONDS,
    outbox,
    observer: metrics,
  })
  metrics.watch({
    running: () => runner.running,
    slots: () => runner.slots,
    outbox: () => outbox.size,
  })
  // Reports kept from before a restart go first.
  await outbox.flush().catch(() => false)
  outbox.start()
  const scheduler = config.DBSNAP_AGENT_SCHEDULES
    ? new Scheduler({
        client,
        logger,
        stateDir: dir,
        pollMs: config.DBSNAP_AGENT_SCHEDULE_POLL_SECONDS * 1000,
        runLocal: (schedule, at) =>
          runScheduleLocally(schedule, at, {
            runJob: runJobs,
            outbox,
            repository: config.DBSNAP_AGENT_REPOSITORY,
            logger,
          }),
      })
    : undefined
  await scheduler?.start()
  const scaler =
    autoscale === undefined
      ? undefined
      : new Autoscaler({
          runner,
          queue: () => client.queue(),
          range: autoscale,
          logger,
          idleMs: config.DBSNAP_AGENT_AUTOSCALE_IDLE_SECONDS * 1000,
        })
  const health = await startHealthServer(
    {
      notReadyReason: () => {
        if (runner.stopping) return 'stopping'
        const last = runner.lastContactAt
        if (last === undefined) return 'has not reached the control plane yet'
        return Date.now() - last > READY_WITHIN_MS
          ? 'has not reached the control plane recently'
          : null
      },
    },
    config.DBSNAP_AGENT_HEALTH_HOST,
    config.DBSNAP_AGENT_HEALTH_PORT,
    metrics,
  )
  logger.info(
    {
      agentId: state.agentId,
      controlPlane: state.controlPlaneUrl,
      concurrency: runner.slots,
      ...(autoscale === undefined ? {} : { autoscale }),
      healthPort: health.port,
    },
    'agent started',
  )
  let stopped: Promise<void> | undefined
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal, running: runner.running }, 'stopping: finishing running jobs')
    stopped ??= Promise.all([
      scaler?.stop(),
      runner.stop(config.DBSNAP_AGENT_DRAIN_SECONDS * 1000),
      scheduler?.stop(),
    ]).then(() => outbox.stop())
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  try {
    const running = runner.run()
    scaler?.start()
    try {
      await running
    } finally {
      // Also when the runner gave up (revoked): the scaler's timer would keep the process alive.
      await scaler?.stop()
    }
    await stopped
  } finally {
    await health.close()
  }
  logger.info('agent stopped')
}

function fail(err: unknown): never {
  if (isDbsnapError(err)) {
    process.stderr.write(`dbsnap-agent: error [${err.code}]: ${err.message}\n`)
    process.exit(err.code === 'CONFIG_INVALID' ? 2 : 1)
  }
  if (err instanceof ControlPlaneCallError) {
    process.stderr.write(`dbsnap-agent: error [${err.code}]: ${err.message}\n`)
    process.exit(err.status === undefined ? 3 : 1)
  }
  throw err
}
