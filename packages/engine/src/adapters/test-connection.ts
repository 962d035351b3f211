// The connection check behind `dbsnap connection test` and the control plane's validator:
// connect, ask the server about itself, disconnect.

import type { Logger } from 'pino'
import type { ConnectOptions, ServerDescription } from './source-adapter.js'
import { silentLogger } from '../logger.js'
import { connect } from './connect.js'
import { parseConnectionUrl } from '../connection/url.js'

export interface ConnectionTestResult extends ServerDescription {
  /** Milliseconds from starting to connect to having the description. */
  elapsedMs: number
}

/**
 * Checks that DBSnap can reach and read a database, and returns sanitized server metadata.
 * Rejects with a `CONNECTION_*` DbsnapError that says what went wrong.
 */
export async function testConnection(
  url: string,
  options: ConnectOptions = {},
): Promise<ConnectionTestResult> {
  const logger: Logger = options.logger ?? silentLogger
  const target = parseConnectionUrl(url)
  const started = performance.now()
  logger.debug({ engine: target.engine, host: target.host, port: target.port }, 'connecting')
  const source = await connect(target, options)
  try {
    const description = await source.describe(
      options.signal === undefined ? {} : { signal: options.signal },
    )
    const elapsedMs = Math.round(performance.now() - started)
    logger.debug({ engine: target.engine, elapsedMs }, 'connection test passed')
    return { ...description, elapsedMs }
  } finally {
    await source.close()
  }
}
