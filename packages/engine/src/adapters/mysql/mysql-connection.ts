// Opens MySQL/MariaDB connections (mysql2) for the source adapter and the restore target alike:
// one set of driver options, TLS from the URL's ssl-mode, failures mapped to DbsnapErrors.

import mysql from 'mysql2/promise'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import { DEFAULT_TIMEOUT_MS, type ConnectOptions } from '../source-adapter.js'
import { mysqlError, tlsRequiredError } from './mysql-errors.js'

type SslMode = 'DISABLED' | 'PREFERRED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY'

export function sslOption(target: ConnectionTarget): mysql.ConnectionOptions['ssl'] {
  const raw = target.params.get('ssl-mode') ?? target.params.get('sslmode')
  if (raw === null) return undefined
  const mode = raw.toUpperCase().replace('-', '_') as SslMode
  switch (mode) {
    case 'DISABLED':
    case 'PREFERRED':
      return undefined
    case 'REQUIRED':
      return { rejectUnauthorized: false }
    case 'VERIFY_CA':
    case 'VERIFY_IDENTITY':
      return { rejectUnauthorized: true }
    default:
      throw new DbsnapError(
        'CONNECTION_URL_INVALID',
        `ssl-mode must be one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY; got "${raw}"`,
      )
  }
}

/**
 * The mysql2 options of every connection DBSnap opens to `target`: the source's reads, the
 * statement cancels, the restore target's writes.
 */
export function mysqlConnectionConfig(
  target: ConnectionTarget,
  options: ConnectOptions,
): mysql.ConnectionOptions {
  const config: mysql.ConnectionOptions = {
    host: target.host,
    port: target.port,
    connectTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Values stay in the server's text forms (mysql-values.ts): no Number for big integers and
    // decimals, no Date for temporal types, no JSON.parse for JSON.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
    // Without FOUND_ROWS a row that ON DUPLICATE KEY UPDATE leaves unchanged counts 0, not 1:
    // one-row appends can then tell a skipped row from an inserted one (reads do not care).
    flags: ['-FOUND_ROWS'],
    connectAttributes: { program_name: options.applicationName ?? 'dbsnap' },
    // Never more than one statement per query: one built from a snapshot cannot become two.
    multipleStatements: false,
    ...(target.user === null ? {} : { user: target.user }),
    ...(target.password === null ? {} : { password: target.password }),
    ...(target.database === null ? {} : { database: target.database }),
  }
  const ssl = sslOption(target)
  if (ssl !== undefined) config.ssl = ssl
  return config
}

/**
 * A connection to `target` opened with `mysqlConnectionConfig`, and that config (to open another
 * like it): failures as `CONNECTION_*` DbsnapErrors, TLS required told from a wrong password.
 */
export async function openMysqlConnection(
  target: ConnectionTarget,
  options: ConnectOptions,
): Promise<{ connection: mysql.Connection; config: mysql.ConnectionOptions }> {
  const signal = options.signal
  throwIfAborted(signal)
  const config = mysqlConnectionConfig(target, options)
  let connection: mysql.Connection
  try {
    connection = await abortable(mysql.createConnection(config), signal)
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    if (isAccessDenied(err) && config.ssl === undefined && (await acceptsTls(config))) {
      throw tlsRequiredError(err, target)
    }
    throw mysqlError(err, target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  }
  // A connection the server drops while idle emits 'error'; keep the process alive.
  connection.on('error', (err: Error) =>
    options.logger?.warn({ err: err.message }, 'mysql connection error'),
  )
  return { connection, config }
}

function isAccessDenied(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ER_ACCESS_DENIED_ERROR'
}

/**
 * MariaDB refuses a plain connection to a TLS-only account (REQUIRE SSL, require_secure_transport)
 * with the same "access denied" as a wrong password. Trying the same login over TLS — what the
 * mysql client's default ssl-mode=PREFERRED does — tells the two apart; the probe is closed at once.
 */
async function acceptsTls(config: mysql.ConnectionOptions): Promise<boolean> {
  try {
    const probe = await mysql.createConnection({ ...config, ssl: { rejectUnauthorized: false } })
    probe.destroy()
    return true
  } catch {
    return false
  }
}

/** `pending` (a connection being opened), or ABORTED when `signal` fires first (the connection, once opened, is destroyed). */
export async function abortable<T extends { destroy(): void }>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return pending
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal))
      void pending.then((c) => c.destroy()).catch(() => undefined)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}
