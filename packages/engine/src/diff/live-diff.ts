// Live diff: a snapshot compared with the database as it is now. The live database is read by
// the snapshot pipeline itself, into an overlay on the snapshot's repository: chunks it already
// holds are recognised by id and never written, changed ones go to a temporary directory, and
// the two snapshots are then diffed like any others. So the result is, by construction, what
// snapshotting the live database and diffing the two snapshots would give, and the repository
// is left untouched.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ConnectOptions } from '../adapters/source-adapter.js'
import { redactUrl, type ConnectionTarget } from '../connection/url.js'
import type { DatabaseSchema } from '../schema/schema.js'
import { createSnapshot, type SnapshotProgress } from '../snapshot/snapshot.js'
import { FsStorage } from '../storage/fs/fs-storage.js'
import { diffSnapshots, type DiffOptions, type SnapshotDiff, type SnapshotSide } from './diff.js'

export interface LiveDiffOptions extends DiffOptions {
  /** Reads at most this many rows a second from the live database. */
  maxRowsPerSecond?: number
  connectOptions?: Omit<ConnectOptions, 'signal' | 'logger'>
  logger?: Logger
  onProgress?: (event: SnapshotProgress) => void
}

/** A live diff; `close()` removes the temporary chunks of the live side (idempotent). */
export interface LiveDiff extends SnapshotDiff {
  /** Caveats of the live read (as a snapshot reports them), e.g. no point-in-time view. */
  warnings: string[]
  /** The live database's schema, as the live read saw it. */
  liveSchema: DatabaseSchema
  /**
   * The same comparison once more, from the chunks already read (the live database is not read
   * again): for a caller that needs two passes over the row changes. Valid until `close()`.
   */
  again(): SnapshotDiff
  close(): Promise<void>
}

/**
 * Compares snapshot `base` with the live database at `source`, reading the live tables in key
 * order inside one consistent read-only view (as a snapshot does), at most
 * `maxRowsPerSecond`. Schema-only diffs read no rows.
 *
 * @example
 * const diff = await diffLive({ repository, snapshot }, 'postgres://ro@db/shop')
 * try { for await (const change of diff.rowChanges()) print(change) } finally { await diff.close() }
 */
export async function diffLive(
  base: SnapshotSide,
  source: string | ConnectionTarget,
  options: LiveDiffOptions = {},
): Promise<LiveDiff> {
  const directory = await mkdtemp(join(tmpdir(), 'dbsnap-live-'))
  let upper: FsStorage | undefined
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await upper?.close()
    await rm(directory, { recursive: true, force: true })
  }
  try {
    upper = await FsStorage.open(directory, { create: true })
    const overlay = await base.repository.overlay(upper, { signal: options.signal })
    const result = await createSnapshot({
      source,
      repository: overlay,
      name: base.snapshot.manifest.name,
      tables: options.tables,
      exclude: options.exclude,
      base: base.snapshot.manifest,
      maxRowsPerSecond: options.maxRowsPerSecond,
      signal: options.signal,
      logger: options.logger,
      onProgress: options.onProgress,
      connectOptions: options.connectOptions,
      // The live schema alone needs no rows: reading none, on one connection (no extra readers
      // to open, no FLUSH TABLES WITH READ LOCK on MySQL), keeps a schema-only diff cheap.
      ...(options.schemaOnly === true ? { tables: [], exclude: ['*.*'], jobs: 1 } : {}),
    })
    const live = { id: result.id, manifest: await overlay.readManifest(result.id, options.signal) }
    const liveSide = { repository: overlay, snapshot: live }
    const diff = diffSnapshots(base, liveSide, options)
    const url = typeof source === 'string' ? redactUrl(source) : source.host
    const to = {
      snapshot: null,
      name: live.manifest.name,
      engine: live.manifest.source.engine,
      takenAt: live.manifest.startedAt,
      live: url,
    }
    return {
      ...diff,
      to,
      warnings: result.warnings,
      liveSchema: live.manifest.schema,
      again: () => ({ ...diffSnapshots(base, liveSide, options), to }),
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
