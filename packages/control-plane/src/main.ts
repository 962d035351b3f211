// Starts the control plane: read settings, open the database, serve HTTP, stop on SIGTERM.

import { readFileSync } from 'node:fs'
import { serve } from '@hono/node-server'
import { createLogger, isDbsnapError } from '@dbsnap/engine'
import { createApp } from './app.js'
import { loadControlPlaneConfig } from './config.js'
import { openDatabase } from './db.js'

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string
}

export function main(): void {
  let config
  try {
    config = loadControlPlaneConfig()
  } catch (err) {
    if (!isDbsnapError(err)) throw err
    process.stderr.write(`dbsnap-control-plane: ${err.message}\n`)
    process.exit(2)
  }
  const logger = createLogger({
    name: 'dbsnap-control-plane',
    level: config.LOG_LEVEL,
    fd: 1,
    ...(config.LOG_FORMAT === undefined ? {} : { format: config.LOG_FORMAT }),
  })
  const db = openDatabase(config.DATABASE_URL)
  const app = createApp({ db, logger, version })
  const server = serve(
    { fetch: app.fetch, hostname: config.DBSNAP_CP_HOST, port: config.DBSNAP_CP_PORT },
    (info) =>
      logger.info({ address: info.address, port: info.port, version }, 'control plane listening'),
  )
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down')
    server.close(() => {
      db.close()
      process.exit(0)
    })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
