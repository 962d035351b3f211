// Settings of dbsnap-agent, read once at start from the environment (.env.example lists them).

import { LOG_LEVELS, parseEnv } from '@dbsnap/engine'
import { z } from 'zod'

const AgentEnv = z.object({
  /** Base URL of the control plane the agent pulls jobs from. */
  DBSNAP_CONTROL_PLANE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** Single-use registration token issued by the control plane (exchanged for a credential). */
  DBSNAP_AGENT_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Where the health endpoints (/livez, /readyz) listen. */
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
