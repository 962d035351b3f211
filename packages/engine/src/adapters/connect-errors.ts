// Turns the network-level failures every driver surfaces (DNS, refused, reset, timeout, TLS)
// into DbsnapErrors with the same codes and wording for all engines.

import { connect as netConnect } from 'node:net'
import { DbsnapError, abortError, findErrorCode, type ErrorCode } from '../errors.js'
import type { ConnectionTarget } from '../connection/url.js'

const TLS_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

/** Where the target lives, for messages: `host:port`. */
export function endpoint(target: ConnectionTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  return `${host}:${target.port}`
}

/**
 * Classifies a network-level failure, or returns undefined when the error is not one (the
 * adapter then maps its driver's own codes).
 */
export function networkError(
  err: unknown,
  target: ConnectionTarget,
  timeoutMs: number,
): DbsnapError | undefined {
  const code = findErrorCode(err)
  const where = endpoint(target)
  const make = (c: ErrorCode, message: string, retryable: boolean): DbsnapError =>
    new DbsnapError(c, message, {
      cause: err,
      retryable,
      details: { host: target.host, port: target.port },
    })
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return make(
        'CONNECTION_DNS_FAILED',
        `cannot resolve host "${target.host}" (DNS lookup failed)`,
        code === 'EAI_AGAIN',
      )
    case 'ECONNREFUSED':
      return make(
        'CONNECTION_REFUSED',
        `connection refused by ${where}: is the ${target.engine} server running and listening there?`,
        true,
      )
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return make(
        'CONNECTION_TIMEOUT',
        `no answer from ${where} within ${formatMs(timeoutMs)}`,
        true,
      )
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make('CONNECTION_FAILED', `host ${where} is unreachable from here (${code})`, true)
    case 'ECONNRESET':
    case 'EPIPE':
      return make(
        'CONNECTION_LOST',
        `connection to ${where} was closed by the server or the network`,
        true,
      )
    default:
      if (code !== undefined && TLS_CERT_CODES.has(code)) {
        return make(
          'CONNECTION_TLS_FAILED',
          `TLS handshake with ${where} failed: ${code.toLowerCase().replaceAll('_', ' ')}`,
          false,
        )
      }
      return undefined
  }
}

export function timeoutError(
  target: ConnectionTarget,
  timeoutMs: number,
  cause?: unknown,
): DbsnapError {
  return new DbsnapError(
    'CONNECTION_TIMEOUT',
    `no answer from ${endpoint(target)} within ${formatMs(timeoutMs)}`,
    {
      cause,
      retryable: true,
      details: { host: target.host, port: target.port },
    },
  )
}

/** Removes a literal password from server-provided text before it reaches a message. */
export function scrub(text: string, target: ConnectionTarget): string {
  const secret = target.password
  return secret !== null && secret.length > 0 ? text.split(secret).join('****') : text
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/**
 * Opens and closes a TCP connection to the target, rejecting with the same DbsnapErrors as
 * `networkError` (DNS, refused, timeout). For drivers that hide those behind long retries.
 */
export function probeTcp(
  target: ConnectionTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port, timeout: timeoutMs })
    const done = (err?: DbsnapError): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err === undefined) resolve()
      else reject(err)
    }
    const onAbort = (): void => done(abortError(signal as AbortSignal))
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => done())
    socket.once('timeout', () => done(timeoutError(target, timeoutMs)))
    socket.once('error', (err) =>
      done(
        networkError(err, target, timeoutMs) ??
          new DbsnapError(
            'CONNECTION_FAILED',
            `cannot connect to ${endpoint(target)}: ${err.message}`,
            { cause: err },
          ),
      ),
    )
  })
}
