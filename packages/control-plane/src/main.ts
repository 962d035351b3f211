// Starts the control plane: read settings, open and migrate the database, serve HTTP, stop on
// SIGTERM. `dbsnap-control-plane migrate` only migrates (for a deploy step before the rollout);
// `admin create --email …` makes an instance administrator from the shell; `rotate-secret-key`
// re-encrypts the stored credentials under a new key. A start with no
// account logs a one-time setup link instead.

import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import pino from 'pino'
import { createLogger, isDbsnapError, type Logger } from '@dbsnap/engine/core'
import { ADMIN_USAGE, createAdminFromShell, parseAdminArgs } from './admin-cli.js'
import { createApp } from './app.js'
import { startEmbeddedAgent, type EmbeddedAgent } from './embedded-agent.js'
import {
  loadControlPlaneConfig,
  defaultRepository,
  embeddedAgentEnabled,
  embeddedAgentStateDirectory,
  exportDirectory,
  metricsSettings,
  rateLimitSettings,
  secretKeySettings,
  type ControlPlaneConfig,
} from './config.js'
import { openDatabase, type ControlPlaneDb } from './db/database.js'
import { resealCredentials } from './data/connections.js'
import { createSetupToken } from './data/setup.js'
import { migrate } from './db/migrate.js'
import { ApiKeyUsageRecorder } from './middleware/api-key-usage.js'
import { MAX_WAIT_SECONDS } from './routes/agent-api.js'
import { loadSigningKey } from './identity/signing-key.js'
import { ROTATE_USAGE, rotationSettings } from './rotate-cli.js'
import { loadSecretBox } from './secrets/secret-keys.js'
import type { SecretBox } from './secrets/secret-box.js'

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string
}

const USAGE = [
  'usage: dbsnap-control-plane [serve | migrate]',
  ADMIN_USAGE.replace('usage: ', '       '),
  ROTATE_USAGE.replace('usage: ', '       '),
].join('\n')

/** Exit status for an error's code: 2 for settings (as the CLI), 3 for an unreachable database. */
function exitCode(code: string): number {
  if (code === 'CONFIG_INVALID') return 2
  if (code === 'DATABASE_UNAVAILABLE') return 3
  return 1
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const command = argv[0] ?? 'serve'
  const known =
    command === 'admin' ||
    command === 'rotate-secret-key' ||
    (argv.length <= 1 && ['serve', 'migrate'].includes(command))
  if (!known) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(2)
  }
  try {
    const admin = command === 'admin' ? parseAdminArgs(argv.slice(1)) : undefined
    const config = loadControlPlaneConfig()
    // Read before the database is opened: a wrong flag or key file changes nothing.
    const rotation =
      command === 'rotate-secret-key'
        ? await rotationSettings(argv.slice(1), secretKeySettings(config))
        : undefined
    const logger = createLogger({
      name: 'dbsnap-control-plane',
      level: config.LOG_LEVEL,
      fd: 1,
      // Written off the request path: a synchronous write per request log line was a tenth of
      // the API's CPU. pino flushes what is pending when the process exits.
      ...(command === 'serve' ? { destination: pino.destination({ fd: 1, sync: false }) } : {}),
      ...(config.LOG_FORMAT === undefined ? {} : { format: config.LOG_FORMAT }),
    })
    const db = await openDatabase(config.DATABASE_URL)
    try {
      const { applied, current } = await migrate(db)
      logger.info({ database: db.where, applied, schema: current }, 'database schema is current')
    } catch (err) {
      await db.close()
      throw err
    }
    if (command === 'migrate') {
      await db.close()
      return
    }
    if (admin !== undefined) {
      try {
        const id = await createAdminFromShell(db, admin.email)
        logger.info({ userId: id }, 'instance administrator created')
      } finally {
        await db.close()
      }
      return
    }
    if (rotation !== undefined) {
      try {
        const box = await loadSecretBox(rotation, config.DATABASE_URL)
        const counts = await resealCredentials(db.db, box)
        logger.info(
          { keyId: box.current.id, ...counts },
          'credentials re-encrypted under the current key',
        )
      } finally {
        await db.close()
      }
      return
    }
    const signingKey = await loadSigningKey(config.DBSNAP_JWT_SECRET, config.DATABASE_URL)
    const secrets = await loadSecretBox(secretKeySettings(config), config.DATABASE_URL)
    serveHttp(config, db, logger, signingKey, secrets)
    await logSetupLink(config, db, logger)
  } catch (err) {
    if (!isDbsnapError(err)) throw err
    process.stderr.write(`dbsnap-control-plane: error [${err.code}]: ${err.message}\n`)
    process.exit(exitCode(err.code))
  }
}

/**
 * With no account yet, logs a link holding a one-time token (an hour, single use) whose holder
 * creates the instance's administrator: a fresh instance exposed by mistake cannot be claimed
 * by whoever finds it first, only by whoever reads this log.
 */
async function logSetupLink(
  config: ControlPlaneConfig,
  db: ControlPlaneDb,
  logger: Logger,
): Promise<void> {
  const token = await createSetupToken(db.db)
  if (token === undefined) return
  const origin =
    config.DBSNAP_CP_PUBLIC_URL ?? `http://${config.DBSNAP_CP_HOST}:${config.DBSNAP_CP_PORT}`
  logger.warn(
    { setupUrl: `${origin}/setup#token=${token}`, api: 'POST /api/v1/auth/setup' },
    'no account yet: open the setup link within an hour to create the administrator (or run `dbsnap-control-plane admin create --email …`)',
  )
}

function serveHttp(
  config: ControlPlaneConfig,
  db: ControlPlaneDb,
  logger: Logger,
  signingKey: Uint8Array,
  secrets: SecretBox,
): void {
  const apiKeyUsage = new ApiKeyUsageRecorder(db.db, logger)
  const app = createApp({
    db,
    logger,
    apiKeyUsage,
    version,
    secrets,
    rateLimits: rateLimitSettings(config),
    queue: {
      leaseMs: config.DBSNAP_CP_JOB_LEASE_SECONDS * 1000,
      maxAttempts: config.DBSNAP_CP_JOB_MAX_ATTEMPTS,
    },
    exports: {
      dir: exportDirectory(config),
      maxBytes: config.DBSNAP_CP_EXPORT_MAX_BYTES,
      ttlSeconds: config.DBSNAP_CP_EXPORT_TTL_SECONDS,
    },
    metrics: metricsSettings(config),
    auth: {
      signingKey,
      publicOrigin: config.DBSNAP_CP_PUBLIC_URL,
      trustProxy: config.DBSNAP_CP_TRUST_PROXY,
      openRegistration: config.DBSNAP_CP_OPEN_REGISTRATION,
    },
  })
  let agent: Promise<EmbeddedAgent | undefined> = Promise.resolve(undefined)
  const server = serve(
    { fetch: app.fetch, hostname: config.DBSNAP_CP_HOST, port: config.DBSNAP_CP_PORT },
    (info) => {
      const url = listenUrl(info.address, info.port)
      logger.info({ url, address: info.address, port: info.port, version }, `listening on ${url}`)
      if (config.DBSNAP_CP_METRICS_TOKEN === undefined && !isLoopback(info.address)) {
        logger.warn(
          { address: info.address },
          '/metrics is open to whoever reaches this address: set DBSNAP_CP_METRICS_TOKEN',
        )
      }
      if (embeddedAgentEnabled(config)) {
        agent = startEmbeddedAgent({
          db,
          logger,
          url: listenUrl(loopbackOf(info.address), info.port),
          repository: config.DBSNAP_AGENT_REPOSITORY ?? defaultRepository(),
          version,
          stateDir: embeddedAgentStateDirectory(config),
        }).catch((err: unknown) => {
          logger.error({ err: (err as Error).message }, 'the embedded agent could not start')
          return undefined
        })
      }
    },
  )
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down')
    // The agent reports through the server: it drains first, then the server closes.
    void agent
      .then((running) => running?.stop(EMBEDDED_DRAIN_MS))
      .finally(() => {
        server.close(() => {
          void apiKeyUsage
            .close()
            .then(() => db.close())
            .finally(() => process.exit(0))
        })
        closeConnections(server as Server)
      })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}

/**
 * Ends the connections of a closing server. `close()` only stops new connections: agents poll
 * every second on keep-alive connections, which would keep it open for as long as they do. Idle
 * connections are closed as soon as they are (a request under way, a lease's long poll included,
 * is answered first), and whatever is left after the longest long poll is cut.
 */
function closeConnections(server: Server): void {
  server.closeIdleConnections()
  setInterval(() => server.closeIdleConnections(), 100).unref()
  setTimeout(() => server.closeAllConnections(), (MAX_WAIT_SECONDS + 5) * 1000).unref()
}

/** How long the embedded agent's running jobs get to finish on SIGTERM before they are handed back. */
const EMBEDDED_DRAIN_MS = 10_000

/** The address to reach a server listening on `address` from this machine. */
function loopbackOf(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1'
  if (address === '::') return '::1'
  return address
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.')
}

/** The URL of the address the server listens on, as a person would paste it (IPv6 in brackets). */
export function listenUrl(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`
}
