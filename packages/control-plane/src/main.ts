// Starts the control plane: read settings, open and migrate the database, serve HTTP, stop on
// SIGTERM. `dbsnap-control-plane migrate` only migrates (for a deploy step before the rollout).

import { readFileSync } from 'node:fs'
import { serve } from '@hono/node-server'
import { createLogger, isDbsnapError, type Logger } from '@dbsnap/engine/core'
import { createApp } from './app.js'
import { loadControlPlaneConfig, type ControlPlaneConfig } from './config.js'
import { openDatabase, type ControlPlaneDb } from './db/database.js'
import { migrate } from './db/migrate.js'
import { loadSigningKey } from './identity/signing-key.js'

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string
}

const USAGE = 'usage: dbsnap-control-plane [serve | migrate]'

/** Exit status for an error's code: 2 for settings (as the CLI), 3 for an unreachable database. */
function exitCode(code: string): number {
  if (code === 'CONFIG_INVALID') return 2
  if (code === 'DATABASE_UNAVAILABLE') return 3
  return 1
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const command = argv[0] ?? 'serve'
  if (argv.length > 1 || (command !== 'serve' && command !== 'migrate')) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(2)
  }
  try {
    const config = loadControlPlaneConfig()
    const logger = createLogger({
      name: 'dbsnap-control-plane',
      level: config.LOG_LEVEL,
      fd: 1,
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
    const signingKey = await loadSigningKey(config.DBSNAP_JWT_SECRET, config.DATABASE_URL)
    serveHttp(config, db, logger, signingKey)
  } catch (err) {
    if (!isDbsnapError(err)) throw err
    process.stderr.write(`dbsnap-control-plane: error [${err.code}]: ${err.message}\n`)
    process.exit(exitCode(err.code))
  }
}

function serveHttp(
  config: ControlPlaneConfig,
  db: ControlPlaneDb,
  logger: Logger,
  signingKey: Uint8Array,
): void {
  const app = createApp({
    db,
    logger,
    version,
    auth: {
      signingKey,
      publicOrigin: config.DBSNAP_CP_PUBLIC_URL,
      trustProxy: config.DBSNAP_CP_TRUST_PROXY,
    },
  })
  const server = serve(
    { fetch: app.fetch, hostname: config.DBSNAP_CP_HOST, port: config.DBSNAP_CP_PORT },
    (info) =>
      logger.info({ address: info.address, port: info.port, version }, 'control plane listening'),
  )
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down')
    server.close(() => {
      void db.close().finally(() => process.exit(0))
    })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
