// Settings of the control plane, read once at start from the environment (.env.example lists them).

import { LOG_LEVELS, parseEnv } from '@dbsnap/engine'
import { z } from 'zod'

const ControlPlaneEnv = z.object({
  DBSNAP_CP_HOST: z.string().min(1).default('127.0.0.1'),
  DBSNAP_CP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** SQLite file (`sqlite:path` or a plain path). PostgreSQL support arrives with the job queue. */
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/control-plane.sqlite')
    .refine((value) => !/^postgres(ql)?:/.test(value), {
      message: 'PostgreSQL is not supported yet; use sqlite:<path>',
    })
    .transform((value) => value.replace(/^sqlite:/, '')),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type ControlPlaneConfig = z.output<typeof ControlPlaneEnv>

export function loadControlPlaneConfig(
  env: Record<string, string | undefined> = process.env,
): ControlPlaneConfig {
  return parseEnv(ControlPlaneEnv, env)
}
