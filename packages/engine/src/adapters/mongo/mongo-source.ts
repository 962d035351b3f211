// MongoDB source adapter (official driver; tested on FerretDB): connects, describes the server
// and opens the read view snapshots read collections through (docs/mongodb.md).

import { MongoClient, type ClientSession, type Db } from 'mongodb'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { DatabaseSchema, QualifiedName, TableSchema } from '../../schema/schema.js'
import { endpoint, probeTcp } from '../connect-errors.js'
import {
  DEFAULT_TIMEOUT_MS,
  type ConnectFn,
  type ConnectOptions,
  type OpenReadViewOptions,
  type ReadTableOptions,
  type ReadView,
  type ServerDescription,
  type ServerIdentity,
  type SourceAdapter,
} from '../source-adapter.js'
import { mongoError, mongoQueryError } from './mongo-errors.js'
import { introspectMongo, type MongoCollectionExtra } from './mongo-introspect.js'
import { readCollection } from './mongo-read.js'

/** The wire version of MongoDB 5.0, the first with snapshot reads outside transactions. */
const SNAPSHOT_READS_WIRE_VERSION = 13
const DEFAULT_DATABASE = 'test'

/** Roles enough for a snapshot; any other role is reported as more than a backup needs. */
const BACKUP_ROLES = new Set(['read', 'readAnyDatabase', 'backup', 'clusterMonitor'])
const SUPERUSER_ROLES = new Set(['root', '__system'])

/** `buildInfo`'s answer: the MongoDB version it speaks, and FerretDB's own where it is one. */
interface BuildInfo {
  version: string
  ferretdbVersion?: string
  ferretdb?: { version?: string }
}

export const connectMongo: ConnectFn = async (target, options) => {
  const client = await openMongoClient(target, options)
  const adapter = new MongoAdapter(client, target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  try {
    await adapter.ensureDatabaseExists(options.signal)
  } catch (err) {
    await adapter.close()
    throw err
  }
  return adapter
}

/**
 * A connected client for `target` (the source and the restore target share it): unreachable
 * hosts, refusals, bad logins and timeouts rejected as `CONNECTION_*` DbsnapErrors.
 */
export async function openMongoClient(
  target: ConnectionTarget,
  options: ConnectOptions,
): Promise<MongoClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signal = options.signal
  throwIfAborted(signal)
  // The driver retries an unreachable server until server selection times out; a plain TCP
  // connect first turns "no such host" and "refused" into instant, precise errors.
  if (target.hosts.length === 1 && !target.href.startsWith('mongodb+srv:')) {
    await probeTcp(target, timeoutMs, signal)
  }
  const client = new MongoClient(target.href, {
    appName: options.applicationName ?? 'dbsnap',
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: 0,
  })
  const onAbort = (): void => void client.close(true).catch(() => undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await client.connect()
  } catch (err) {
    await client.close(true).catch(() => undefined)
    if (signal?.aborted === true) throw abortError(signal)
    throw mongoError(err, target, timeoutMs)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  return client
}

/** The source adapter; the restore target (mongo-target.ts) reuses its `describe`. */
export class MongoAdapter implements SourceAdapter {
  readonly engine = 'mongodb' as const
  readonly #client: MongoClient
  readonly #target: ConnectionTarget
  readonly #timeoutMs: number
  readonly #db: Db
  #closed = false

  constructor(client: MongoClient, target: ConnectionTarget, timeoutMs: number) {
    this.#client = client
    this.#target = target
    this.#timeoutMs = timeoutMs
    this.#db = client.db(target.database ?? DEFAULT_DATABASE)
  }

  /**
   * MongoDB creates databases on first write, so a misspelt name connects fine and shows an
   * empty database; a snapshot tool refuses it instead.
   */
  async ensureDatabaseExists(signal: AbortSignal | undefined): Promise<void> {
    if (this.#target.database === null) return
    const { databases } = await this.#run<{ databases: { name: string }[] }>(
      this.#client.db('admin'),
      { listDatabases: 1, nameOnly: true, authorizedDatabases: true },
      signal,
    )
    if (!databases.some((d) => d.name === this.#db.databaseName)) {
      throw new DbsnapError(
        'CONNECTION_DATABASE_NOT_FOUND',
        `database "${this.#db.databaseName}" does not exist on ${endpoint(this.#target)} (or this user may not see it)`,
        { details: { host: this.#target.host, port: this.#target.port } },
      )
    }
  }

  async identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return this.#identity(await this.#buildInfo(options.signal))
  }

  async describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    const { signal } = options
    const admin = this.#client.db('admin')
    const build = await this.#buildInfo(signal)
    const stats = await this.#run<{
      dataSize?: number
      indexSize?: number
      totalSize?: number
      storageSize?: number
    }>(this.#db, { dbStats: 1 }, signal)
    throwIfAborted(signal)
    const collections = await this.#db
      .listCollections({}, { nameOnly: true, authorizedCollections: true })
      .toArray()
      .catch((err: unknown) => {
        throw signal?.aborted === true
          ? abortError(signal)
          : mongoError(err, this.#target, this.#timeoutMs)
      })
    const status = await this.#run<{
      authInfo?: {
        authenticatedUsers?: { user: string; db: string }[]
        authenticatedUserRoles?: { role: string; db: string }[]
      }
    }>(admin, { connectionStatus: 1 }, signal)
    const users = status.authInfo?.authenticatedUsers ?? []
    const roles = status.authInfo?.authenticatedUserRoles ?? []
    const size =
      stats.totalSize ?? (stats.storageSize ?? stats.dataSize ?? 0) + (stats.indexSize ?? 0)
    return {
      ...this.#identity(build),
      sizeBytes: Number.isFinite(size) ? size : null,
      objects: {
        collections: collections.filter((c) => c.type !== 'view').length,
        views: collections.filter((c) => c.type === 'view').length,
      },
      currentUser: users[0] === undefined ? null : `${users[0].user}@${users[0].db}`,
      superuser: roles.some((r) => SUPERUSER_ROLES.has(r.role)),
      // An authenticated user with no roles listed means the server does not report them.
      excessPrivileges:
        users.length > 0 && roles.length === 0
          ? null
          : [
              ...new Set(
                roles.filter((r) => !BACKUP_ROLES.has(r.role)).map((r) => `${r.role}@${r.db}`),
              ),
            ].sort(),
    }
  }

  #buildInfo(signal: AbortSignal | undefined): Promise<BuildInfo> {
    return this.#run<BuildInfo>(this.#client.db('admin'), { buildInfo: 1 }, signal)
  }

  #identity(build: BuildInfo): ServerIdentity {
    const ferretdb = build.ferretdbVersion ?? build.ferretdb?.version
    return {
      engine: 'mongodb',
      product: ferretdb === undefined ? 'MongoDB' : 'FerretDB',
      serverVersion:
        ferretdb === undefined
          ? build.version
          : `${ferretdb.replace(/^v/, '')} (MongoDB ${build.version} compatible)`,
      host: this.#target.host,
      port: this.#target.port,
      database: this.#db.databaseName,
    }
  }

  /**
   * Opens the read view: a snapshot session (`snapshot: true`, read concern `snapshot`) where the
   * server offers one — a replica set or sharded cluster of MongoDB 5.0 or later — so every
   * collection is read as of one cluster time, on a secondary too (`readPreference` in the URL).
   * Elsewhere collections are read one after another, each as of its own read, and the view's
   * `warnings` say so: FerretDB (it accepts the read concern but does not honour it), a
   * standalone mongod, MongoDB before 5.0, or a `readConcernLevel` other than `snapshot` asked
   * for in the URL (then used, in a causally consistent session).
   *
   * Always one reader: a snapshot session reads one collection at a time, and sessions sharing
   * one cluster time (`atClusterTime`) are not implemented, nor testable on FerretDB, which has
   * no snapshot reads at all; `readersWarning` says so when more were asked for.
   */
  async openReadView(options: OpenReadViewOptions = {}): Promise<ReadView> {
    const { signal } = options
    if (this.#target.database === null) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `name the database to snapshot in the URL's path, e.g. mongodb://${endpoint(this.#target)}/shop`,
      )
    }
    const admin = this.#client.db('admin')
    const hello = await this.#run<{ setName?: string; msg?: string; maxWireVersion?: number }>(
      admin,
      { hello: 1 },
      signal,
    )
    const build = await this.#buildInfo(signal)
    const ferretdb = build.ferretdbVersion !== undefined || build.ferretdb !== undefined
    // URI options are case-insensitive (the driver reads `readconcernlevel` too).
    const readConcernLevel =
      [...this.#target.params].find(([name]) => name.toLowerCase() === 'readconcernlevel')?.[1] ??
      null
    const mode = readViewMode({
      ferretdb,
      replicated: hello.setName !== undefined || hello.msg === 'isdbgrid',
      wireVersion: hello.maxWireVersion ?? 0,
      readConcernLevel,
    })
    const warnings = mode.snapshot ? [] : [mode.warning]
    let session: ClientSession
    try {
      session = this.#client.startSession(
        mode.snapshot ? { snapshot: true } : { causalConsistency: true },
      )
    } catch (err) {
      throw mongoQueryError(err, this.#target)
    }
    const readersWarning =
      (options.readers ?? 1) <= 1
        ? undefined
        : ferretdb
          ? 'collections are read one at a time: FerretDB has no snapshot reads that several sessions could share'
          : 'collections are read one at a time: DBSnap does not yet read MongoDB on several sessions'
    return new MongoReadView(this.#db, session, {
      target: this.#target,
      ferretdb,
      warnings,
      readersWarning,
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#client.close().catch(() => undefined)
  }

  async #run<T>(
    db: Db,
    command: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    throwIfAborted(signal)
    try {
      return (await db.command(command, { timeoutMS: this.#timeoutMs })) as T
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      throw mongoError(err, this.#target, this.#timeoutMs)
    }
  }
}

/** What the server offers a read view, from `hello`, `buildInfo` and the URL. */
export interface MongoServerTraits {
  ferretdb: boolean
  /** A replica set member or a mongos. */
  replicated: boolean
  /** `hello.maxWireVersion`: 13 is MongoDB 5.0. */
  wireVersion: number
  /** `readConcernLevel` from the URL, or null. */
  readConcernLevel: string | null
}

/**
 * Whether a read view can be one snapshot session, or else why not: the warning the snapshot
 * logs and lists (docs/mongodb.md, "Consistency").
 */
export function readViewMode(
  server: MongoServerTraits,
): { snapshot: true } | { snapshot: false; warning: string } {
  let reason: string | undefined
  if (server.readConcernLevel !== null && server.readConcernLevel !== 'snapshot') {
    reason = `the URL asks for readConcernLevel=${server.readConcernLevel}, so no snapshot session is used`
  } else if (server.ferretdb) {
    reason =
      'FerretDB has no snapshot reads (it accepts read concern "snapshot" but does not honour it)'
  } else if (!server.replicated) {
    reason = 'a standalone mongod has no snapshot reads; a replica set (even of one member) has'
  } else if (server.wireVersion < SNAPSHOT_READS_WIRE_VERSION) {
    reason = 'MongoDB before 5.0 has no snapshot reads outside transactions'
  }
  if (reason === undefined) return { snapshot: true }
  return {
    snapshot: false,
    warning: `${reason}; collections are read one after another, each as of its own read: changes made while the snapshot runs may be seen in some collections and not in others`,
  }
}

/**
 * A read view over one database. Collections are not locked (MongoDB has no shared locks a
 * client can hold): one dropped or re-created while it is read fails its read with
 * `SOURCE_CHANGED` (see `readCollection`).
 */
class MongoReadView implements ReadView {
  readonly warnings: readonly string[]
  readonly readersWarning: string | undefined
  readonly #db: Db
  readonly #session: ClientSession
  readonly #target: ConnectionTarget
  readonly #ferretdb: boolean
  #closed = false

  constructor(
    db: Db,
    session: ClientSession,
    options: {
      target: ConnectionTarget
      ferretdb: boolean
      warnings: string[]
      readersWarning: string | undefined
    },
  ) {
    this.#db = db
    this.#session = session
    this.#target = options.target
    this.#ferretdb = options.ferretdb
    this.warnings = options.warnings
    this.readersWarning = options.readersWarning
  }

  /**
   * Introspects outside the session: catalogue commands (listCollections, listIndexes) do not
   * take read concern `snapshot`. A collection created after this is not in the snapshot.
   */
  introspect(options: { signal?: AbortSignal } = {}): Promise<DatabaseSchema> {
    return introspectMongo(this.#db, { signal: options.signal, target: this.#target })
  }

  lockTables(_tables: QualifiedName[], options: { signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal)
    return Promise.resolve()
  }

  readTable(table: TableSchema, options: ReadTableOptions = {}): ReturnType<ReadView['readTable']> {
    const extra = table.extra as Partial<MongoCollectionExtra> | undefined
    return readCollection(
      this.#db,
      {
        name: table.name,
        uuid: extra?.uuid ?? null,
        sortOutsideIndex: (extra?.collation ?? null) !== null || extra?.type === 'timeseries',
        averageDocumentBytes:
          table.estimatedRows !== null && table.estimatedRows > 0 && table.estimatedBytes !== null
            ? table.estimatedBytes / table.estimatedRows
            : null,
      },
      { ...options, session: this.#session, target: this.#target, ferretdb: this.#ferretdb },
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#session.endSession().catch(() => undefined)
  }
}
