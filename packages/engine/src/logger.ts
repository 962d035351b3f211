// Structured logging for every DBSnap program: pino, JSON for machines, readable on a terminal,
// and a trace id that follows an operation through the engine (and later agent <-> control plane).

import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino'
import pretty from 'pino-pretty'

export type { Logger } from 'pino'
export type LogFormat = 'json' | 'pretty'
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const traceStore = new AsyncLocalStorage<string>()

/** A new random trace id: 32 lowercase hex digits, the W3C trace-context format. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex')
}

/** The trace id of the operation the caller runs in, if any. */
export function currentTraceId(): string | undefined {
  return traceStore.getStore()
}

/**
 * Runs `fn` with `traceId` attached: every log line written inside it, however deep in the
 * engine and across awaits, carries `traceId`.
 *
 * @example
 * await withTraceId(req.header('x-trace-id') ?? newTraceId(), () => snapshot(...))
 */
export function withTraceId<T>(traceId: string, fn: () => T): T {
  return traceStore.run(traceId, fn)
}

/** Keys whose values never reach a log line, however they got into the logged object. */
const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'secretAccessKey',
  '*.secretAccessKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
]

export interface LoggerOptions {
  /** Program name written on each line (`dbsnap`, `dbsnap-agent`, …). */
  name: string
  level?: LevelWithSilent
  /** `json` when unset and the destination is not a TTY or NODE_ENV is production. */
  format?: LogFormat
  /** File descriptor to write to: 2 (stderr) by default, so stdout stays free for results. */
  fd?: 1 | 2
  /** A stream to write to instead of `fd` (tests). */
  destination?: DestinationStream
}

/** Picks the log format from the environment: readable on a TTY, JSON otherwise. */
export function defaultLogFormat(fd: 1 | 2 = 2): LogFormat {
  if (process.env['NODE_ENV'] === 'production') return 'json'
  const stream = fd === 1 ? process.stdout : process.stderr
  return stream.isTTY ? 'pretty' : 'json'
}

/** Creates the root logger of a program. Child loggers inherit the trace id mixin. */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2
  const format = options.format ?? defaultLogFormat(fd)
  const destination =
    options.destination ??
    (format === 'pretty'
      ? pretty({ destination: fd, colorize: true, sync: true, ignore: 'pid,hostname' })
      : pino.destination({ fd, sync: true }))
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: () => {
        const traceId = traceStore.getStore()
        return traceId === undefined ? {} : { traceId }
      },
    },
    destination,
  )
}

/** A logger that drops everything: the default for library calls that were given none. */
export const silentLogger: Logger = pino({ level: 'silent' })
