// Structured logging for every DBSnap program: pino, JSON for machines, readable on a terminal,
// and a trace id that follows an operation through the engine (and later agent <-> control plane).

import { createRequire } from 'node:module'
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino'
import type pretty from 'pino-pretty'
import { currentTraceId } from './trace.js'
import { printable } from './util/printable.js'

export type { Logger } from 'pino'
export type LogFormat = 'json' | 'pretty'
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

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
  /** A stream to write to instead of `fd` (tests), in `format`. */
  destination?: DestinationStream
}

/** Picks the log format from the environment: readable on a TTY, JSON otherwise. */
export function defaultLogFormat(fd: 1 | 2 = 2): LogFormat {
  if (process.env['NODE_ENV'] === 'production') return 'json'
  const stream = fd === 1 ? process.stdout : process.stderr
  return stream.isTTY ? 'pretty' : 'json'
}

/**
 * A destination printing each of pino's JSON lines readably with pino-pretty, every string in it
 * (message, values, keys, error messages and stacks) first made `printable`: log lines quote
 * table names and server messages, which pino-pretty prints as they are, bidi characters, line
 * breaks and C1 controls included. A stack keeps its line breaks, each of its lines escaped.
 * pino-pretty is loaded on first use: it is 30 modules that a JSON log (any run not on a
 * terminal, and every snapshot worker) never needs, and each `dbsnap` process would load them.
 */
function prettyDestination(out: DestinationStream): DestinationStream {
  const require = createRequire(import.meta.url)
  const { prettyFactory } = require('pino-pretty') as typeof pretty
  const prettify = prettyFactory({ colorize: true, ignore: 'pid,hostname' })
  return {
    write: (line: string) => {
      out.write(prettify(escapeStrings(JSON.parse(line))))
    },
  }
}

/** `value` with every string in it, keys too, passed through `printable`. */
function escapeStrings(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    return key === 'stack' ? value.split('\n').map(printable).join('\n') : printable(value)
  }
  if (Array.isArray(value)) return value.map((item) => escapeStrings(item))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, item]) => [printable(k), escapeStrings(item, k)]),
    )
  }
  return value
}

/** Creates the root logger of a program. Child loggers inherit the trace id mixin. */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2
  const format = options.format ?? defaultLogFormat(fd)
  const out = options.destination ?? pino.destination({ fd, sync: true })
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: () => {
        const traceId = currentTraceId()
        return traceId === undefined ? {} : { traceId }
      },
    },
    format === 'pretty' ? prettyDestination(out) : out,
  )
}

/** A logger that drops everything: the default for library calls that were given none. */
export const silentLogger: Logger = pino({ level: 'silent' })
