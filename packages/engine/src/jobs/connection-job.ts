// The connection-test job: can DBSnap reach this database, and what is there? Connects, asks
// the server about itself, disconnects; nothing is written.

import { testConnection, type ConnectionTestResult } from '../adapters/test-connection.js'
import { redactUrl } from '../connection/url.js'
import { parseDuration } from '../util/duration.js'
import type { JobContext } from './context.js'
import type { ConnectionTestJobSpec } from './spec.js'

export async function runConnectionTestJob(
  spec: ConnectionTestJobSpec,
  { signal, logger, progress }: JobContext,
): Promise<ConnectionTestResult> {
  logger.info({ url: redactUrl(spec.source) }, 'testing connection')
  progress.phase('reading')
  return testConnection(spec.source, {
    timeoutMs: spec.timeout === undefined ? undefined : parseDuration(spec.timeout),
    signal,
    logger,
  })
}
