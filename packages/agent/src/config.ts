// Settings of dbsnap-agent, read once at start from the environment (.env.example lists them).
// Where the agent keeps its credential and which repository its jobs write to are settings of the
// machine it runs on: the control plane never learns the repository's credentials.

import { homedir } from 'node:os'
import { join } from 'node:path'
import { LOG_LEVELS, parseEnv } from '@dbsnap/engine/core'
import { z } from 'zod'

const AgentEnv = z.object({
  /** Where the agent keeps its credential (`agent.json`, mode 0600). */
  DBSNAP_AGENT_STATE_DIR: z.string().min(1).optional(),
  /** The repository jobs read and write: a directory or `s3://bucket/prefix`. */
  DBSNAP_AGENT_REPOSITORY: z.string().min(1).optional(),
  /** Jobs run at once. */
  DBSNAP_AGENT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** `min..max`: slots follow the project's queue (autoscaler.ts) instead of the fixed concurrency. */
  DBSNAP_AGENT_AUTOSCALE: z.string().min(1).optional(),
  /** With autoscale, how long fewer slots must be wanted before they are removed. */
  DBSNAP_AGENT_AUTOSCALE_IDLE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(60),
  /** On SIGTERM, how long running jobs may take to finish before they are stopped and handed back. */
  DBSNAP_AGENT_DRAIN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** A job that reports no progress for this long is stopped, and retried (by any agent). */
  DBSNAP_AGENT_WATCHDOG_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
  /** How long the presigned download URL of an export on S3 works (at most 7 days). */
  DBSNAP_AGENT_EXPORT_LINK_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
  /** Run the project's schedules from this agent (also while the control plane is down). */
  DBSNAP_AGENT_SCHEDULES: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** How often the agent fetches its project's schedules. */
  DBSNAP_AGENT_SCHEDULE_POLL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  /** Where the health endpoints (/livez, /readyz, /metrics) listen; port 0 picks a free one. */
  DBSNAP_AGENT_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  DBSNAP_AGENT_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type AgentConfig = z.output<typeof AgentEnv>

export function loadAgentConfig(
  env: Record<string, string | undefined> = process.env,
): AgentConfig {
  return parseEnv(AgentEnv, env)
}

/** The state directory: the setting, else `$XDG_STATE_HOME/dbsnap/agent` (`~/.local/state/…`). */
export function stateDir(
  config: Pick<AgentConfig, 'DBSNAP_AGENT_STATE_DIR'>,
  env: Record<string, string | undefined> = process.env,
): string {
  if (config.DBSNAP_AGENT_STATE_DIR !== undefined) return config.DBSNAP_AGENT_STATE_DIR
  const stateHome = env['XDG_STATE_HOME'] ?? join(homedir(), '.local', 'state')
  return join(stateHome, 'dbsnap', 'agent')
}
