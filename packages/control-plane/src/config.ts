// Settings of the control plane, read once at start from the environment (.env.example lists them).

import { dirname, join } from 'node:path'
import { LOG_LEVELS, parseEnv } from '@dbsnap/engine/core'
import envPaths from 'env-paths'
import { z } from 'zod'
import type { DesiredAgentsRule } from './data/queue-stats.js'
import { parseDatabaseUrl } from './db/database.js'
import { MIN_SECRET_LENGTH } from './identity/signing-key.js'
import { DEFAULT_RATE_LIMITS, type RateLimits } from './middleware/rate-limit.js'
import type { SecretKeySettings } from './secrets/secret-keys.js'

/**
 * Where the control plane keeps its SQLite file and key files when `DATABASE_URL` is unset: the
 * user's data directory, `$XDG_DATA_HOME/dbsnap/control-plane` (`~/.local/share/…`) on Linux,
 * `~/Library/Application Support/dbsnap/control-plane` on macOS,
 * `%LOCALAPPDATA%\dbsnap\Data\control-plane` on Windows. Not the working directory: a
 * service started from another directory would otherwise start afresh, with no accounts.
 */
export function defaultDataDirectory(): string {
  return join(envPaths('dbsnap', { suffix: '' }).data, 'control-plane')
}

/** The embedded agent's default repository: the `dbsnap` CLI's default, so both see the same snapshots. */
export function defaultRepository(): string {
  return join(envPaths('dbsnap', { suffix: '' }).data, 'repo')
}

/** Where streamed exports wait (DBSNAP_CP_EXPORT_DIR, else `exports` beside the data). */
export function exportDirectory(config: ControlPlaneConfig): string {
  if (config.DBSNAP_CP_EXPORT_DIR !== undefined) return config.DBSNAP_CP_EXPORT_DIR
  const db = config.DATABASE_URL
  return db.dialect === 'sqlite' && db.path !== ':memory:'
    ? join(dirname(db.path), 'exports')
    : join(defaultDataDirectory(), 'exports')
}

/**
 * Where the embedded agent keeps the last tick of each schedule, so that a restart of the control
 * plane catches up on the ticks it missed: `embedded-agent` beside the SQLite file, or in the data
 * directory with PostgreSQL; none with an in-memory database.
 */
export function embeddedAgentStateDirectory(config: ControlPlaneConfig): string | undefined {
  const db = config.DATABASE_URL
  if (db.dialect !== 'sqlite') return join(defaultDataDirectory(), 'embedded-agent')
  return db.path === ':memory:' ? undefined : join(dirname(db.path), 'embedded-agent')
}

/** Whether the control plane runs its embedded agent. */
export function embeddedAgentEnabled(config: ControlPlaneConfig): boolean {
  if (config.DBSNAP_CP_EMBEDDED_AGENT === 'auto') return config.DATABASE_URL.dialect === 'sqlite'
  return config.DBSNAP_CP_EMBEDDED_AGENT === 'true'
}

/** A rate limit's number of hits in its window (the windows are fixed: see RateLimits). */
const hitsPerWindow = z.coerce.number().int().min(1).optional()

const ControlPlaneEnv = z.object({
  DBSNAP_CP_HOST: z.string().min(1).default('127.0.0.1'),
  DBSNAP_CP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** `postgres://…` for PostgreSQL, else a SQLite file (`sqlite:path` or a plain path). */
  DATABASE_URL: z
    .string()
    .min(1)
    .default(() => `sqlite:${join(defaultDataDirectory(), 'control-plane.sqlite')}`)
    .refine(
      (value) => /^postgres(ql)?:\/\//i.test(value) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value),
      {
        message: 'expected postgres://…, sqlite:<path> or a file path',
      },
    )
    .transform(parseDatabaseUrl),
  /** HMAC key of access tokens; unset with SQLite, a key file beside the database is used. */
  DBSNAP_JWT_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH, `expected at least ${MIN_SECRET_LENGTH} characters`)
    .optional(),
  /** Key of the connection credentials, base64 of 32 bytes; or DBSNAP_SECRET_KEY_FILE names a file holding it. Unset with SQLite, a key file beside the database is used. */
  DBSNAP_SECRET_KEY: z.string().min(1).optional(),
  DBSNAP_SECRET_KEY_FILE: z.string().min(1).optional(),
  /** The key before a rotation: its ciphertexts stay readable until `rotate-secret-key` re-seals them. */
  DBSNAP_SECRET_KEY_PREVIOUS: z.string().min(1).optional(),
  /** The origin browsers use (`https://dbsnap.example.com`), for the CSRF check behind a proxy. */
  DBSNAP_CP_PUBLIC_URL: z
    .url()
    .transform((value) => new URL(value).origin)
    .optional(),
  /** `true` behind a reverse proxy: client IPs come from the last X-Forwarded-For entry. */
  DBSNAP_CP_TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** `true`: anyone may sign up. Off by default: the first-run setup link makes the administrator. */
  DBSNAP_CP_OPEN_REGISTRATION: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** Requests per minute of each user or API key; unset: DEFAULT_RATE_LIMITS. */
  DBSNAP_CP_RATE_LIMIT_PER_USER: hitsPerWindow,
  /** Register, login and refresh requests per minute from one client IP. */
  DBSNAP_CP_RATE_LIMIT_AUTH_PER_IP: hitsPerWindow,
  /** Login attempts per 5 minutes on one account (email), from any IP. */
  DBSNAP_CP_RATE_LIMIT_LOGIN_PER_ACCOUNT: hitsPerWindow,
  /**
   * How long a job's lease lasts without a heartbeat (agents heartbeat every third of it): an
   * agent that dies frees its job this long after its last heartbeat.
   */
  DBSNAP_CP_JOB_LEASE_SECONDS: z.coerce.number().int().min(3).max(3_600).default(20),
  /**
   * Run an agent inside the control plane (the EMBEDDED_AGENT), so one command gives a
   * working service: `auto` (the default) runs it with SQLite, not with PostgreSQL (replicas).
   */
  DBSNAP_CP_EMBEDDED_AGENT: z.enum(['auto', 'true', 'false']).default('auto'),
  /** The embedded agent's repository; default `dbsnap/repo` in the user's data directory (the CLI's default). */
  DBSNAP_AGENT_REPOSITORY: z.string().min(1).optional(),
  /**
   * Where exports that agents stream from a local repository wait for their one download; default
   * `exports` beside the SQLite file, or in the data directory with PostgreSQL.
   */
  DBSNAP_CP_EXPORT_DIR: z.string().min(1).optional(),
  /** The largest export an agent may stream to the control plane (default 1 GiB). */
  DBSNAP_CP_EXPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 ** 3),
  /** How long a streamed export waits for its download before it is deleted (default 24 h). */
  DBSNAP_CP_EXPORT_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
  /** Leases a job may take before it goes to the dead-letter queue. */
  DBSNAP_CP_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Bearer token /metrics asks for; unset, /metrics is open to whoever reaches the port. */
  DBSNAP_CP_METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  /** The desired-agent rule (docs/jobs.md): jobs one agent runs at once (its DBSNAP_AGENT_CONCURRENCY). */
  DBSNAP_CP_DESIRED_AGENTS_JOBS_PER_AGENT: z.coerce.number().int().min(1).max(64).default(1),
  /** Fewest and most agents the rule asks for per project with live jobs. */
  DBSNAP_CP_DESIRED_AGENTS_MIN: z.coerce.number().int().min(0).max(1_000).default(0),
  DBSNAP_CP_DESIRED_AGENTS_MAX: z.coerce.number().int().min(1).max(1_000).default(10),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
})

export type ControlPlaneConfig = z.output<typeof ControlPlaneEnv>

export function loadControlPlaneConfig(
  env: Record<string, string | undefined> = process.env,
): ControlPlaneConfig {
  return parseEnv(ControlPlaneEnv, env)
}

/** The secret key settings of `config`, for loadSecretBox. */
export function secretKeySettings(config: ControlPlaneConfig): SecretKeySettings {
  return {
    key: config.DBSNAP_SECRET_KEY,
    keyFile: config.DBSNAP_SECRET_KEY_FILE,
    previous: config.DBSNAP_SECRET_KEY_PREVIOUS,
  }
}

/**
 * The rate limits `config` raises or lowers, over DEFAULT_RATE_LIMITS: only the number of hits
 * is a setting, the windows stay (a minute; 5 minutes per account).
 */
export function rateLimitSettings(config: ControlPlaneConfig): Partial<RateLimits> {
  const hits = (name: keyof RateLimits, value: number | undefined) =>
    value === undefined ? {} : { [name]: { ...DEFAULT_RATE_LIMITS[name], hits: value } }
  return {
    ...hits('perUser', config.DBSNAP_CP_RATE_LIMIT_PER_USER),
    ...hits('authPerIp', config.DBSNAP_CP_RATE_LIMIT_AUTH_PER_IP),
    ...hits('loginPerAccount', config.DBSNAP_CP_RATE_LIMIT_LOGIN_PER_ACCOUNT),
  }
}

/** /metrics' token and the desired-agent rule of `config`, for createApp. */
export function metricsSettings(config: ControlPlaneConfig): {
  token?: string
  desiredAgents: DesiredAgentsRule
} {
  return {
    ...(config.DBSNAP_CP_METRICS_TOKEN === undefined
      ? {}
      : { token: config.DBSNAP_CP_METRICS_TOKEN }),
    desiredAgents: {
      jobsPerAgent: config.DBSNAP_CP_DESIRED_AGENTS_JOBS_PER_AGENT,
      min: config.DBSNAP_CP_DESIRED_AGENTS_MIN,
      max: Math.max(config.DBSNAP_CP_DESIRED_AGENTS_MIN, config.DBSNAP_CP_DESIRED_AGENTS_MAX),
    },
  }
}
