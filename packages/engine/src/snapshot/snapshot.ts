// `createSnapshot`: reads a database through one consistent read view and commits it to a
// repository: chunks and chunk indexes first, the manifest last (the commit point).

import { availableParallelism, hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { engineModule } from '../adapters/engines.js'
import type {
  ConnectOptions,
  ReadView,
  ServerIdentity,
  SourceAdapter,
  TableReader,
} from '../adapters/source-adapter.js'
import { connect } from '../adapters/connect.js'
import { parseConnectionUrl, type ConnectionTarget } from '../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../errors.js'
import { formatCodec, type CodecSpec } from '../repository/codec.js'
import type { ChunkEntry, SnapshotManifest, TableEntry } from '../repository/manifest.js'
import { schemaFingerprint } from '../schema/definition-json.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { Repository } from '../repository/repository.js'
import type { DatabaseSchema, TableSchema } from '../schema/schema.js'
import { DBSNAP_VERSION } from '../version.js'
import { selectTables, type TableSelector } from '../schema/table-filter.js'
import { TABLES_FINISHING, TablesFinishing, inLanes, readingOrder } from './table-lanes.js'
import { ChunkBuffers, ChunkSlots, TableWriter } from './table-writer.js'

export interface SnapshotOptions {
  /** Connection URL (or parsed target) of the database to snapshot. */
  source: string | ConnectionTarget
  /**
   * Where the snapshot goes; or the repository still being opened, for a caller who opens it
   * while the snapshot connects and reads the schema (the snapshot does not close it).
   */
  repository: Repository | Promise<Repository>
  /** Catalogue name; default: the database name. */
  name?: string
  /** Tables to include (`schema.table`, globs, or tables already resolved); default all. */
  tables?: TableSelector[]
  exclude?: TableSelector[]
  /** Codec for new chunks; default the repository's. */
  compression?: CodecSpec
  tags?: Record<string, string>
  signal?: AbortSignal
  onProgress?: (event: SnapshotProgress) => void
  logger?: Logger
  connectOptions?: Omit<ConnectOptions, 'signal' | 'logger'>
  /**
   * A connection to `source` the caller started opening already (while it opened the
   * repository); the snapshot owns it from here and closes it however it ends. Default: the
   * snapshot connects, while it takes the repository's lock.
   */
  connection?: PendingConnection
  /** Chunks processed at once per table (hash, delta, compress, upload). Default 4. */
  concurrency?: number
  /**
   * The snapshot whose chunks are reused and that changed chunks are stored as deltas of.
   * Default: the latest snapshot of the same name in the repository.
   */
  base?: SnapshotManifest | null
  /** Reads at most this many rows a second (all tables together), to spare a busy server. */
  maxRowsPerSecond?: number
  /**
   * Connections reading different tables at the same time, all in one consistent view (see
   * `ReadView.readers`); default `defaultJobs()`. When the server cannot give more than one in
   * one view, the snapshot reads on one; the result's warnings say why when `jobs` was given.
   */
  jobs?: number
}

/**
 * Jobs when none are asked for: up to 4, and no more than the machine's CPUs. The rows are
 * decoded, chunked and compressed on one thread; more connections overlap the server's work and
 * the network's waits with it, which pays up to a few (docs/decisions/0019-parallel-reads.md).
 */
export function defaultJobs(): number {
  return Math.min(4, availableParallelism())
}

export type SnapshotProgress =
  | { type: 'start'; name: string; tables: { table: string; estimatedRows: number | null }[] }
  | {
      type: 'table'
      table: string
      rows: number
      bytes: number
      storedBytes: number
      chunksNew: number
      chunksReused: number
      done: boolean
    }

export interface SnapshotTableResult {
  /** `schema.table` as users write it (`tableName`); `schema` and `name` apart. */
  table: string
  schema: string
  name: string
  rows: number
  bytes: number
  chunks: number
  chunksNew: number
  storedBytes: number
}

/** What a finished snapshot reports; JSON-serializable. */
export interface SnapshotResult {
  id: string
  name: string
  repository: string
  startedAt: string
  finishedAt: string
  durationMs: number
  tables: SnapshotTableResult[]
  totals: SnapshotManifest['totals']
  /** The source's engine and the version its server reported (the manifest's `source`). */
  engine: SnapshotManifest['source']['engine']
  serverVersion: string
  /**
   * SHA-256 (hex) of the manifest's schema without its volatile facts (row estimates, sequence
   * positions: `schema/definition-json.ts`): equal when schema diff finds no change.
   */
  schemaFingerprint: string
  /** Caveats of the read, e.g. no point-in-time consistency on this server; empty when none. */
  warnings: string[]
}

/**
 * Takes a snapshot. Either the manifest is committed and the result returned, or nothing
 * becomes visible: an error, an abort or a crash leaves at most unreferenced chunks that
 * `prune` removes.
 *
 * @example
 * const repository = await Repository.open(await openStorage('/backups/repo'), { create: true })
 * const result = await createSnapshot({ source: 'postgres://backup@db/shop', repository })
 */
export async function createSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const { signal } = options
  const started = new Date()
  const target =
    typeof options.source === 'string' ? parseConnectionUrl(options.source) : options.source
  const name = options.name ?? target.database ?? target.user ?? target.host
  const jobs = options.jobs ?? defaultJobs()
  if (!Number.isSafeInteger(jobs) || jobs < 1) {
    options.connection?.abandon()
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected jobs to be an integer from 1 up, got ${jobs}`,
    )
  }
  // Connecting (loading the driver, the TCP and authentication round trips) and reading the
  // schema need no lock: they go on while the repository is opened and locked, off the critical
  // path of a short snapshot (decision 0040).
  const connection =
    options.connection ??
    startConnecting(target, { ...options.connectOptions, signal, logger: options.logger })
  const stopOpening = new AbortController()
  const opening = openRead(connection, target, jobs, {
    ...options,
    signal:
      signal === undefined ? stopOpening.signal : AbortSignal.any([signal, stopOpening.signal]),
  })
  // Awaited below; when the repository fails first, closed once settled.
  opening.catch(() => {})
  let repository: Repository
  let lock: Awaited<ReturnType<Repository['lock']>>
  try {
    repository = await options.repository
    throwIfAborted(signal)
    lock = await repository.lock('shared', 'snapshot', { signal })
  } catch (err) {
    // The repository's error is the one reported, as when the repository was opened first.
    stopOpening.abort()
    connection.abandon()
    // Closing the source closes its read view with it.
    await (await opening.catch(() => undefined))?.source.close()
    throw err
  }
  const codec = options.compression ?? repository.codec
  let read: OpenRead | undefined
  // Each reader's last table may be finishing as well as the usual ones.
  const finishing = new TablesFinishing<WrittenTable>(TABLES_FINISHING + jobs - 1)
  try {
    read = await opening
    const { server, view, schema, tables, warnings } = read
    options.onProgress?.({
      type: 'start',
      name,
      tables: tables.map((t) => ({ table: tableName(t), estimatedRows: t.estimatedRows })),
    })
    const previous =
      options.base !== undefined
        ? (options.base ?? undefined)
        : await latestSnapshot(repository, name, signal)
    const throttle = rowThrottle(options.maxRowsPerSecond, signal)
    const buffers = new ChunkBuffers(repository.config.chunking)
    const concurrency = options.concurrency ?? 4
    // Whatever the jobs, at most this many chunks are stored at once (each writer also keeps to
    // `concurrency`): N tables in flight do not make N times the memory.
    const slots = new ChunkSlots(2 * concurrency)
    // One lookup per table, not a scan of the previous snapshot's tables for each.
    const priors = new Map(previous?.tables.map((t) => [tableKey(t), t]))
    const readOne = async (
      reader: TableReader,
      index: number,
      laneSignal: AbortSignal,
    ): Promise<void> => {
      const table = tables[index]!
      const candidate = priors.get(tableKey(table))
      const prior =
        candidate !== undefined &&
        sameList(
          candidate.columns,
          table.columns.map((c) => c.name),
        ) &&
        sameList(candidate.key ?? [], table.primaryKey?.columns ?? [])
          ? candidate
          : undefined
      const priorChunks =
        prior === undefined ? [] : await repository.readIndex(prior.index, laneSignal)
      const { written } = await snapshotTable(reader, repository, table, {
        codec,
        // Kept from the previous snapshot once a boundary depended on it (the table reached
        // minBytes); otherwise chosen again from the rows.
        chunkBits:
          prior !== undefined && prior.bytes >= repository.config.chunking.minBytes
            ? prior.chunkBits
            : null,
        previous: priorChunks,
        concurrency,
        slots,
        buffers,
        throttle,
        signal: laneSignal,
        onProgress: options.onProgress,
      })
      await finishing.add(index, written)
    }
    await inLanes(view.readers ?? [view], readingOrder(tables, view.readers?.length ?? 1), {
      signal,
      claim: async (reader, index, laneSignal) =>
        reader.claim === undefined || (await reader.claim(tables[index]!, { signal: laneSignal })),
      work: readOne,
    })
    const entries: TableEntry[] = []
    const results: SnapshotTableResult[] = []
    let newObjects = 0
    let newBytes = 0
    let reusedChunks = 0
    for (const written of await finishing.results()) {
      entries.push(written.entry)
      results.push(written.result)
      newObjects += written.result.chunksNew + (written.indexWritten ? 1 : 0)
      newBytes += written.result.storedBytes
      reusedChunks += written.result.chunks - written.result.chunksNew
    }
    const finished = new Date()
    const manifest: SnapshotManifest = {
      format: 1,
      name,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      source: {
        engine: server.engine,
        product: server.product,
        serverVersion: server.serverVersion,
        host: server.host,
        port: server.port,
        database: server.database,
      },
      dbsnapVersion: DBSNAP_VERSION,
      hostname: hostname(),
      tags: options.tags ?? {},
      compression: formatCodec(codec),
      schema,
      tables: entries,
      totals: {
        tables: entries.length,
        rows: sum(entries.map((e) => e.rows)),
        bytes: sum(entries.map((e) => e.bytes)),
        chunks: sum(entries.map((e) => e.chunks)),
        newObjects,
        newBytes,
        reusedChunks,
      },
    }
    throwIfAborted(signal)
    const committed = await repository.putManifest(manifest, signal)
    return {
      id: committed.id,
      name,
      repository: repository.location,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
      durationMs: finished.getTime() - started.getTime(),
      tables: results,
      totals: manifest.totals,
      engine: manifest.source.engine,
      serverVersion: manifest.source.serverVersion,
      schemaFingerprint: schemaFingerprint(schema),
      warnings,
    }
  } catch (err) {
    if (signal?.aborted === true && !(isDbsnapError(err) && err.code === 'ABORTED'))
      throw abortError(signal)
    throw err
  } finally {
    // Nothing of a failed snapshot may still be writing once its lock is released. The source
    // closes meanwhile: it holds nothing of the repository.
    await finishing.settled()
    await Promise.all([read?.source.close(), lock.release()])
  }
}

/** What a snapshot has opened to read its rows: the source, its read view and what it reads. */
interface OpenRead {
  source: SourceAdapter
  view: ReadView
  server: ServerIdentity
  schema: DatabaseSchema
  /** The tables to read, locked in the view. */
  tables: TableSchema[]
  /** The view's caveats, already logged. */
  warnings: string[]
}

/**
 * Opens the read: the source, its description, the read view, the schema, and the selected
 * tables, locked. Nothing of it touches the repository. On failure, whatever it opened is
 * closed before it rejects.
 */
async function openRead(
  connection: PendingConnection,
  target: ConnectionTarget,
  jobs: number,
  options: SnapshotOptions,
): Promise<OpenRead> {
  const { signal, logger } = options
  const source = await connection.source
  try {
    const server = await source.identify({ signal })
    const view = await source.openReadView({ signal, readers: jobs })
    const warnings = [...(view.warnings ?? [])]
    if (view.readersWarning !== undefined) {
      // Only a caller who asked for jobs is told: the default is a best effort.
      if (options.jobs !== undefined) warnings.push(view.readersWarning)
      else logger?.info({ source: target.host }, view.readersWarning)
    }
    for (const warning of warnings) logger?.warn({ source: target.host }, warning)
    const schema = await view.introspect({ signal })
    const tables = selectTables(schema.tables, {
      include: options.tables,
      exclude: options.exclude,
      defaultSchema: engineModule(target.engine).defaultSchema,
    })
    await view.lockTables(tables, { signal })
    for (const warning of view.consistencyWarnings?.(tables) ?? []) {
      logger?.warn({ source: target.host }, warning)
      warnings.push(warning)
    }
    return { source, view, server, schema, tables, warnings }
  } catch (err) {
    await source.close()
    throw err
  }
}

/** A connection being opened while other work goes on (`startConnecting`). */
export interface PendingConnection {
  /** The open source; its failure is reported when awaited, never as unhandled before. */
  readonly source: Promise<SourceAdapter>
  /**
   * For work that ends without using it: stops the attempt, or closes the connection once open,
   * so that nothing keeps the process waiting on an unreachable server.
   */
  abandon(): void
}

/** Starts connecting to `target` now, to be awaited (or abandoned) later. */
export function startConnecting(
  target: string | ConnectionTarget,
  options: ConnectOptions,
): PendingConnection {
  const abandoned = new AbortController()
  const signal =
    options.signal === undefined
      ? abandoned.signal
      : AbortSignal.any([options.signal, abandoned.signal])
  const source = connect(target, { ...options, signal })
  source.catch(() => {})
  return {
    source,
    abandon: () => {
      abandoned.abort()
      source.then(
        (opened) => opened.close().catch(() => {}),
        () => {},
      )
    },
  }
}

/** A table read in full, its last chunks and its index still being stored. */
interface WrittenTable {
  entry: TableEntry
  result: SnapshotTableResult
  indexWritten: boolean
}

/** Reads one table into a TableWriter; resolves once read, with the storing still going on. */
async function snapshotTable(
  reader: TableReader,
  repository: Repository,
  table: TableSchema,
  options: {
    codec: CodecSpec
    /** The table's chunk bits; null: chosen from its first rows (`TableWriterOptions.chunkBits`). */
    chunkBits: number | null
    previous: ChunkEntry[]
    concurrency: number
    slots: ChunkSlots
    buffers: ChunkBuffers
    throttle: (rows: number) => Promise<void>
    signal?: AbortSignal
    onProgress?: (event: SnapshotProgress) => void
  },
): Promise<{ written: Promise<WrittenTable> }> {
  const name = tableName(table)
  const key = table.primaryKey?.columns ?? null
  const keyColumns =
    key === null
      ? null
      : key.map((column) => {
          const index = table.columns.findIndex((c) => c.name === column)
          if (index < 0)
            throw new DbsnapError('INTERNAL', `key column ${column} of ${name} is not a column`)
          return index
        })
  const progress = { rows: 0, bytes: 0, storedBytes: 0, chunksNew: 0, chunksReused: 0 }
  const emit = (done: boolean): void =>
    options.onProgress?.({ type: 'table', table: name, ...progress, done })
  const { chunking } = repository.config
  const writer = new TableWriter({
    repository,
    codec: options.codec,
    chunking,
    chunkBits: options.chunkBits,
    columnCount: table.columns.length,
    keyColumns,
    previous: options.previous,
    concurrency: options.concurrency,
    slots: options.slots,
    buffers: options.buffers,
    signal: options.signal,
    onChunk: (chunk) => {
      progress.rows += chunk.rows
      progress.bytes += chunk.bytes
      progress.storedBytes += chunk.storedBytes
      if (chunk.reused) progress.chunksReused++
      else progress.chunksNew++
      emit(false)
    },
  })
  emit(false)
  for await (const batch of reader.readTable(table, { signal: options.signal })) {
    await options.throttle(batch.length)
    await writer.add(batch)
  }
  // Read in full: the rest is storing, which the caller overlaps with reading the next table.
  const finish = async (): Promise<WrittenTable> => {
    const chunks = await writer.finish()
    const { chunkBits } = writer
    const index = Buffer.from(chunks.map((c) => `${JSON.stringify(c)}\n`).join(''), 'utf8')
    const stored = await repository.putObject('index', index, { signal: options.signal })
    progress.storedBytes += stored.storedBytes
    emit(true)
    return {
      entry: {
        schema: table.schema,
        name: table.name,
        columns: table.columns.map((c) => c.name),
        key,
        chunkBits,
        rows: writer.rows,
        bytes: writer.bytes,
        chunks: chunks.length,
        index: stored.id,
      },
      result: {
        table: name,
        schema: table.schema,
        name: table.name,
        rows: writer.rows,
        bytes: writer.bytes,
        chunks: chunks.length,
        chunksNew: progress.chunksNew,
        storedBytes: progress.storedBytes,
      },
      indexWritten: stored.written,
    }
  }
  return { written: finish() }
}

/**
 * Waits, after each batch, as long as the rows read so far are ahead of `perSecond`; the read
 * then pauses and backpressure holds the server's side (no rows are buffered meanwhile).
 */
function rowThrottle(
  perSecond: number | undefined,
  signal: AbortSignal | undefined,
): (rows: number) => Promise<void> {
  if (perSecond === undefined) return () => Promise.resolve()
  if (!(perSecond > 0)) {
    throw new DbsnapError('INVALID_ARGUMENT', `maxRowsPerSecond must be above 0, got ${perSecond}`)
  }
  const started = performance.now()
  let total = 0
  return async (rows) => {
    total += rows
    const ahead = (total / perSecond) * 1000 - (performance.now() - started)
    if (ahead > 0) await delay(ahead, undefined, { signal })
  }
}

/** The newest snapshot catalogued under `name`, or undefined. */
async function latestSnapshot(
  repository: Repository,
  name: string,
  signal: AbortSignal | undefined,
): Promise<SnapshotManifest | undefined> {
  const snapshots = await repository.listSnapshots({ signal, onError: () => undefined })
  return snapshots.filter((s) => s.manifest.name === name).at(-1)?.manifest
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
