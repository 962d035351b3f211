// Settings of the `dbsnap` command read from the environment (flags override them).

import { LOG_LEVELS, parseEnv } from '@dbsnap/engine'
import { z } from 'zod'

const CliEnv = z.object({
  /** Repository used when --repo is not given: a directory or s3://bucket/prefix. */
  DBSNAP_REPO: z.string().min(1).optional(),
  /**
   * `error`: a command reports its warnings and its error itself, on its output and as one line on
   * stderr; the engine's warn lines (a dropped connection before the error it becomes) would only
   * say it again, as JSON. `warn` or lower shows them.
   */
  DBSNAP_LOG_LEVEL: z.enum(LOG_LEVELS).default('error'),
  DBSNAP_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type CliConfig = z.output<typeof CliEnv>

/**
 * The settings. An empty variable counts as unset (parseEnv), except DBSNAP_REPO: kept as '' so
 * that commands refuse it rather than silently use the default repository.
 */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const settings = parseEnv(CliEnv, env)
  return env['DBSNAP_REPO'] === '' ? { ...settings, DBSNAP_REPO: '' } : settings
}
