// The embedded agent: an agent running inside the control plane's process, so that one command
// (`dbsnap-control-plane` on SQLite) gives a service that takes snapshots. It is the standalone
// agent's code (`@dbsnap/agent`'s Runner) talking to this control plane over loopback HTTP with
// its own credential, renewed at each start; it runs the jobs of every project. Loaded only when
// enabled: the engine's drivers are not loaded otherwise.

import { hostname } from 'node:os'
import type { Logger } from '@dbsnap/engine/core'
import { ensureEmbeddedAgent } from './data/agents.js'
import type { ControlPlaneDb } from './db/database.js'

export interface EmbeddedAgent {
  /** Stops taking jobs; running ones get `drainMs` to finish, then go back to the queue. */
  stop(drainMs: number): Promise<void>
}

export async function startEmbeddedAgent(options: {
  db: ControlPlaneDb
  logger: Logger
  /** The control plane's own URL, on loopback. */
  url: string
  repository: string
  version: string
  concurrency?: number
  /** Where the schedules' last ticks are kept across restarts; in memory only without one. */
  stateDir?: string | undefined
}): Promise<EmbeddedAgent> {
  const [{ ControlPlaneClient, Runner, Scheduler, withDeferrablePrune }, { runJob }] =
    await Promise.all([import('@dbsnap/agent'), import('@dbsnap/engine')])
  const { agent, credential } = await ensureEmbeddedAgent(options.db.db, {
    version: options.version,
    hostname: hostname(),
  })
  const logger = options.logger.child({ agent: 'embedded' })
  const client = new ControlPlaneClient(options.url, credential)
  const runner = new Runner({
    client,
    runJob: withDeferrablePrune(runJob),
    logger,
    repository: options.repository,
    concurrency: options.concurrency ?? 1,
  })
  // Every project's schedules: their ticks become jobs here (this process is the control plane,
  // so there is no "control plane away" to run them locally for). The last tick of each is kept
  // on disk, so that ticks missed while the control plane was down give one catch-up run; the
  // schedules are not (they hold the connections' URLs, and the database has them).
  const scheduler = new Scheduler({
    client,
    logger,
    stateDir: options.stateDir,
    keepSchedules: false,
    runLocal: (schedule) => {
      logger.warn({ scheduleId: schedule.id }, 'cannot queue a scheduled run')
      return Promise.resolve()
    },
  })
  await scheduler.start()
  const running = runner.run().catch((err: unknown) => {
    logger.error({ err: (err as Error).message }, 'the embedded agent stopped')
  })
  logger.info(
    { agentId: agent.id, repository: options.repository },
    'embedded agent started: it runs the jobs of every project',
  )
  return {
    async stop(drainMs) {
      await Promise.all([runner.stop(drainMs), scheduler.stop()])
      await running
    },
  }
}
