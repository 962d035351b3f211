// Snapshot manifests and chunk indexes: what a snapshot is made of. A manifest is the commit
// point of a snapshot; its id is the SHA-256 of its JSON, so it checks itself.

import { z } from 'zod'
import type { CanonicalValue } from '../canonical/value-encoding.js'
import type { Engine } from '../schema/schema.js'
import type { DatabaseSchema } from '../schema/schema.js'

export const MANIFEST_FORMAT = 1

/** One chunk of a table, in key order: a line of the table's chunk index object. */
export interface ChunkEntry {
  id: string
  rows: number
  /** Uncompressed canonical bytes. */
  bytes: number
  /** Key of the first and last row (null for tables without a primary key). */
  first: CanonicalValue[] | null
  last: CanonicalValue[] | null
  /** For a chunk stored as a delta: the ids of the objects it is built on, nearest first. */
  deps?: string[]
  /**
   * For a chunk written as a delta: the SHA-256 of its stored object, the exact bytes put (header
   * and compressed edit script). It proves the script without reading its base (decision 0015).
   * Absent in indexes written before it, and for a delta a snapshot found already stored.
   */
  script?: string
}

export interface TableEntry {
  schema: string
  name: string
  /** Column names, the order of values in each canonical row. */
  columns: string[]
  /** Primary-key columns rows are ordered and matched by; null: no key, full-row order. */
  key: string[] | null
  /** Low key-hash bits that must be zero for a chunk boundary (docs/snapshot-format.md). */
  chunkBits: number
  rows: number
  bytes: number
  chunks: number
  /** Object id of the chunk index: NDJSON, one ChunkEntry per chunk, in key order. */
  index: string
}

export interface SnapshotSource {
  engine: Engine
  product: string
  serverVersion: string
  host: string
  port: number
  database: string | null
}

export interface SnapshotTotals {
  tables: number
  rows: number
  /** Uncompressed canonical bytes of all rows. */
  bytes: number
  chunks: number
  /** Objects this snapshot had to write (data chunks and indexes). */
  newObjects: number
  /**
   * Bytes of the objects this snapshot added to storage: its new chunks and indexes, compressed.
   * Not its manifest, which cannot record its own size; what `snapshot`, `snapshots` and `show`
   * call "added".
   */
  newBytes: number
  /** Chunks that were already stored. */
  reusedChunks: number
}

export interface SnapshotManifest {
  format: typeof MANIFEST_FORMAT
  /** Catalogue name: the database name unless `--name` said otherwise. `<name>@latest`. */
  name: string
  startedAt: string
  finishedAt: string
  source: SnapshotSource
  dbsnapVersion: string
  hostname: string
  tags: Record<string, string>
  compression: string
  schema: DatabaseSchema
  tables: TableEntry[]
  totals: SnapshotTotals
}

const canonicalValue = z.union([z.boolean(), z.number(), z.string(), z.null()])
const keySchema = z.array(canonicalValue).nullable()
const objectId = z.string().regex(/^[0-9a-f]{64}$/)

export const chunkEntrySchema = z.object({
  id: objectId,
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  first: keySchema,
  last: keySchema,
  deps: z.array(objectId).optional(),
  script: objectId.optional(),
})

const tableEntrySchema = z.object({
  schema: z.string(),
  name: z.string(),
  columns: z.array(z.string()),
  key: z.array(z.string()).nullable(),
  chunkBits: z.number().int().min(0).max(30),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  index: objectId,
})

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string().min(1),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  source: z.object({
    engine: z.enum(['postgres', 'mysql', 'mongodb']),
    product: z.string(),
    serverVersion: z.string(),
    host: z.string(),
    port: z.number().int(),
    database: z.string().nullable(),
  }),
  dbsnapVersion: z.string(),
  hostname: z.string(),
  tags: z.record(z.string(), z.string()),
  compression: z.string(),
  // The schema is checked where it is used (restore, diff); here only its outer shape.
  schema: z.looseObject({ engine: z.string(), tables: z.array(z.unknown()) }),
  tables: z.array(tableEntrySchema),
  totals: z.object({
    tables: z.number(),
    rows: z.number(),
    bytes: z.number(),
    chunks: z.number(),
    newObjects: z.number(),
    newBytes: z.number(),
    reusedChunks: z.number(),
  }),
})
