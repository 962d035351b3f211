// The contract every database source (PostgreSQL, MySQL/MariaDB, MongoDB) implements, so the
// snapshot, diff and restore code never depends on a driver.

import type { Logger } from 'pino'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'
import type { ConnectionTarget, Engine } from '../connection/url.js'
import type { DatabaseSchema, QualifiedName, TableSchema } from '../schema/schema.js'

/** How long connecting may take when `ConnectOptions.timeoutMs` is not set (every engine). */
export const DEFAULT_TIMEOUT_MS = 10_000

export interface ConnectOptions {
  /** Cancels connecting and every later call on the adapter. */
  signal?: AbortSignal
  /** Gives up connecting after this many milliseconds (`CONNECTION_TIMEOUT`). Default 10 000. */
  timeoutMs?: number
  /** Shown to the server's administrators (pg_stat_activity, processlist). Default `dbsnap`. */
  applicationName?: string
  logger?: Logger
}

/**
 * Which server answers, and for which database: what a snapshot records of its source and a
 * restore compares with its target. Sanitized: never a password, never a full URL.
 */
export interface ServerIdentity {
  engine: Engine
  /** The product actually answering: `PostgreSQL`, `MariaDB`, `MySQL`, `MongoDB`, `FerretDB`. */
  product: string
  serverVersion: string
  host: string
  port: number
  /** The database the connection is scoped to, or null for a server-wide MySQL connection. */
  database: string | null
}

/** What a server tells about itself (`dbsnap connection test`); sanitized like its identity. */
export interface ServerDescription extends ServerIdentity {
  /** Bytes the database takes on the server (data + indexes), when the server says. */
  sizeBytes: number | null
  /** Object counts: `tables`, `views`, `schemas`, `collections`, … as the engine has them. */
  objects: Record<string, number>
  /** The user the server authenticated, as the server names it. */
  currentUser: string | null
  /** True for a superuser: an account that can do anything on the server. */
  superuser: boolean
  /**
   * Privileges this account holds beyond the read-only ones a snapshot needs, e.g.
   * `SUPERUSER`, `CREATEDB`, `INSERT/UPDATE/DELETE on 12 tables`. Empty when least-privileged;
   * null when the server does not tell (FerretDB reports no roles).
   */
  excessPrivileges: string[] | null
}

export interface ReadTableOptions {
  /** Resume after the row with this key (canonical key values, in key column order). */
  afterKey?: CanonicalValue[]
  signal?: AbortSignal
}

/**
 * Reads whole tables, one at a time: a connection of a read view.
 *
 * Guarantees: rows come in primary-key order (full-row order for tables without one) as
 * canonical rows in the table's column order; batches are bounded in rows and bytes, and the
 * next batch is not read from the server before the consumer asks for it (backpressure).
 * Breaking out of `readTable` early cancels the read. One `readTable` at a time per reader.
 */
export interface TableReader {
  /**
   * On an extra reader without `claim`, the read takes the table's lock itself, without waiting,
   * and rejects with `TableNotClaimed` before its first batch when it cannot: the view then
   * reads the table (see `claim`).
   */
  readTable(table: TableSchema, options?: ReadTableOptions): AsyncIterable<CanonicalRow[]>
  /**
   * On an extra reader of a view (`ReadView.readers`), before reading `table`: takes the
   * table's shared lock on this reader without waiting. False when another session's lock
   * request (an ALTER waiting for the view's lock) stands in the way: waiting behind it would
   * wait for the view itself, so the view's own connection, which holds the lock, reads the
   * table instead. Absent on the view, which locked its tables in `lockTables`.
   */
  claim?(table: QualifiedName, options?: { signal?: AbortSignal }): Promise<boolean>
}

/**
 * An extra reader could not take a table's lock without waiting (see `TableReader.claim`): not a
 * failure of the snapshot, the view reads the table instead.
 */
export class TableNotClaimed extends Error {
  constructor(table: QualifiedName) {
    super(`${table.schema}.${table.name} is left to the view: a lock request stands in the way`)
    this.name = 'TableNotClaimed'
  }
}

export interface OpenReadViewOptions {
  signal?: AbortSignal
  /**
   * Readers wanted (connections reading tables at the same time), default 1. The view opens the
   * extra ones so that they see exactly its own moment (PostgreSQL: an exported snapshot;
   * MySQL: consistent-snapshot transactions begun under one `FLUSH TABLES WITH READ LOCK`), or
   * none at all, never an inconsistent one: then `readers` holds only the view and
   * `readersWarning` says why.
   */
  readers?: number
}

/**
 * One consistent, read-only view of a database (a `REPEATABLE READ READ ONLY` transaction on
 * PostgreSQL): the schema it reports and every row it streams are of the same moment. Rows are
 * read as a `TableReader` does. `close()` ends the view and its readers; idempotent.
 */
export interface ReadView extends TableReader {
  /**
   * What this view cannot guarantee, in words for the user, e.g. that a server without snapshot
   * reads gives no point-in-time view across collections. Empty or absent when none; the
   * snapshot logs each and lists them in its result.
   */
  readonly warnings?: readonly string[]
  introspect(options?: { signal?: AbortSignal }): Promise<DatabaseSchema>
  /**
   * Guards the tables about to be read against concurrent DDL until `close()` (PostgreSQL: ACCESS
   * SHARE locks, as pg_dump takes), failing with `SOURCE_CHANGED` rather than waiting forever
   * behind a conflicting lock.
   */
  lockTables(tables: QualifiedName[], options?: { signal?: AbortSignal }): Promise<void>
  /**
   * What this view cannot read consistently among `tables`, one sentence each (MySQL: tables of
   * a non-transactional engine such as MyISAM). Absent when the engine always reads consistently.
   */
  consistencyWarnings?(tables: TableSchema[]): string[]
  /**
   * The view itself first, then the extra readers `openReadView` was asked for and could open:
   * every one sees the view's moment, so different tables may be read on them at the same time
   * once `lockTables` has guarded them. Absent: the view alone.
   */
  readonly readers?: readonly TableReader[]
  /**
   * Why fewer readers were opened than asked for, in words for the user (e.g. a privilege the
   * account lacks); absent when all were.
   */
  readonly readersWarning?: string
  close(): Promise<void>
}

/**
 * A live connection to one database server.
 *
 * Guarantees: every method rejects with a `DbsnapError` (code `CONNECTION_*`, `ABORTED`, …),
 * never a raw driver error; no error message or log line contains the password.
 * `close()` is idempotent and never throws.
 */
export interface SourceAdapter {
  readonly engine: Engine
  /**
   * The server, its size and contents, and the privileges of the user, for `dbsnap connection
   * test`: several catalog reads, the database's size among them.
   */
  describe(options?: { signal?: AbortSignal }): Promise<ServerDescription>
  /** Only who answers, for a snapshot's manifest: one light query at most. */
  identify(options?: { signal?: AbortSignal }): Promise<ServerIdentity>
  /**
   * Opens a consistent read view for a snapshot or a live diff, with `options.readers` readers
   * when the server allows reading one moment on several connections. Only one at a time per
   * adapter; the adapter may not be used for anything else until the view is closed.
   */
  openReadView(options?: OpenReadViewOptions): Promise<ReadView>
  /**
   * Closes the connection, and an open read view with it: its transaction ends with the
   * connections, without a round trip to end it first.
   */
  close(): Promise<void>
}

/** How the engine opens an adapter; one per engine folder. */
export type ConnectFn = (
  target: ConnectionTarget,
  options: ConnectOptions,
) => Promise<SourceAdapter>
