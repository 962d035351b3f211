// Settings of the control plane, read once at start from the environment (.env.example lists them).

import { LOG_LEVELS, parseEnv } from '@dbsnap/engine/core'
import { z } from 'zod'
import { parseDatabaseUrl } from './db/database.js'

const ControlPlaneEnv = z.object({
  DBSNAP_CP_HOST: z.string().min(1).default('127.0.0.1'),
  DBSNAP_CP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** `postgres://…` for PostgreSQL, else a SQLite file (`sqlite:path` or a plain path). */
  DATABASE_URL: z
    .string()
    .min(1)
    .default('sqlite:./data/control-plane.sqlite')
    .refine(
      (value) => /^postgres(ql)?:\/\//i.test(value) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value),
      {
        message: 'expected postgres://…, sqlite:<path> or a file path',
      },
    )
    .transform(parseDatabaseUrl),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type ControlPlaneConfig = z.output<typeof ControlPlaneEnv>

export function loadControlPlaneConfig(
  env: Record<string, string | undefined> = process.env,
): ControlPlaneConfig {
  return parseEnv(ControlPlaneEnv, env)
}
