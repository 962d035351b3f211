// MongoDB source adapter (official driver; tested on FerretDB). For now: connect and describe
// the server; introspection and document streaming arrive with the MongoDB source issue.

import { MongoClient, type Db } from 'mongodb'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { endpoint, probeTcp } from '../connect-errors.js'
import type { ConnectFn, ReadView, ServerDescription, SourceAdapter } from '../source-adapter.js'
import { mongoError } from './mongo-errors.js'

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_DATABASE = 'test'

/** Roles enough for a snapshot; any other role is reported as more than a backup needs. */
const BACKUP_ROLES = new Set(['read', 'readAnyDatabase', 'backup', 'clusterMonitor'])
const SUPERUSER_ROLES = new Set(['root', '__system'])

export const connectMongo: ConnectFn = async (target, options) => {
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
  const adapter = new MongoAdapter(client, target, timeoutMs)
  try {
    await adapter.ensureDatabaseExists(signal)
  } catch (err) {
    await adapter.close()
    throw err
  }
  return adapter
}

class MongoAdapter implements SourceAdapter {
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

  async describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    const { signal } = options
    const admin = this.#client.db('admin')
    const build = await this.#run<{
      version: string
      ferretdbVersion?: string
      ferretdb?: { version?: string }
    }>(admin, { buildInfo: 1 }, signal)
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
    const ferretdb = build.ferretdbVersion ?? build.ferretdb?.version
    const size =
      stats.totalSize ?? (stats.storageSize ?? stats.dataSize ?? 0) + (stats.indexSize ?? 0)
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

  openReadView(): Promise<ReadView> {
    return Promise.reject(
      new DbsnapError('NOT_SUPPORTED', 'snapshots of MongoDB databases are not supported yet'),
    )
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
