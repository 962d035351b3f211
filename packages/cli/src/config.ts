// Settings of the `dbsnap` command read from the environment (flags override them).

import { LOG_LEVELS, parseEnv } from '@dbsnap/engine'
import { z } from 'zod'

const CliEnv = z.object({
  /** Repository used when --repo is not given: a directory or s3://bucket/prefix. */
  DBSNAP_REPO: z.string().min(1).optional(),
  DBSNAP_LOG_LEVEL: z.enum(LOG_LEVELS).default('warn'),
  DBSNAP_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type CliConfig = z.output<typeof CliEnv>

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return parseEnv(CliEnv, env)
}
