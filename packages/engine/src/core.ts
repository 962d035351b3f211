// `@dbsnap/engine/core`: what a service needs of the engine without running a job — errors,
// logging, trace ids, settings, connection URLs (parsed and redacted), the version, a diff's
// Markdown — and none of the database drivers or the AWS SDK,
// so a program importing only this (the control plane) neither installs nor loads them.

export {
  CodedError,
  DbsnapError,
  ErrorCode,
  abortError,
  findErrorCode,
  isDbsnapError,
  throwIfAborted,
} from './errors.js'
export type { DbsnapErrorOptions } from './errors.js'
export { LOG_LEVELS, createLogger, defaultLogFormat, silentLogger } from './logger.js'
export type { LogFormat, Logger, LoggerOptions } from './logger.js'
export { currentTraceId, newTraceId, withTraceId } from './trace.js'
export { parseEnv } from './config/env.js'
export { parseConnectionUrl, redactUrl } from './connection/url.js'
export type { ConnectionTarget } from './connection/url.js'
export { DBSNAP_VERSION } from './version.js'
export { makeDirectories, makeDirectoriesSync } from './util/make-directories.js'
export { diffMarkdown, markdownText } from './diff/diff-markdown.js'
export type { MarkdownDiff, MarkdownOptions, MarkdownTable } from './diff/diff-markdown.js'
export type * from './diff/diff-format.js'
export type { Engine } from './schema/schema.js'
