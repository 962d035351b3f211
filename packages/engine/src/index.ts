// Public API of the DBSnap engine: everything the CLI, agent and control plane may use.

export { DbsnapError, ErrorCode, abortError, isDbsnapError, throwIfAborted } from './errors.js'
export type { DbsnapErrorOptions } from './errors.js'
export {
  LOG_LEVELS,
  createLogger,
  currentTraceId,
  defaultLogFormat,
  newTraceId,
  silentLogger,
  withTraceId,
} from './logger.js'
export type { LogFormat, Logger, LoggerOptions } from './logger.js'
export { parseEnv } from './config/env.js'
export { parseConnectionUrl, redactUrl } from './connection/url.js'
export type { ConnectionTarget, Engine } from './connection/url.js'
export { connect } from './connection/connect.js'
export { testConnection } from './connection/test-connection.js'
export type { ConnectionTestResult } from './connection/test-connection.js'
export type { ConnectOptions, ServerDescription, SourceAdapter } from './adapters/source-adapter.js'
export { parseDuration } from './util/duration.js'
