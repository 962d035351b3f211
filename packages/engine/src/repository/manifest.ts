// Snapshot manifests and chunk indexes: what a snapshot is made of. A manifest is the commit
// point of a snapshot; its id is the SHA-256 of its JSON, so it checks itself. Each shape is one
// zod schema, which reading checks, and its type is inferred from it.

import { z } from 'zod'
import { ENGINE_NAMES, type DatabaseSchema } from '../schema/schema.js'
import { outerShape } from '../util/outer-shape.js'

export const MANIFEST_FORMAT = 1

/** A canonical value of a key (`CanonicalValue`). */
const canonicalValue = z.union([z.boolean(), z.number(), z.string(), z.null()])
const keySchema = z.array(canonicalValue).nullable()
const objectId = z.string().regex(/^[0-9a-f]{64}$/)

/** One chunk of a table, in key order: a line of the table's chunk index object. */
export const chunkEntrySchema = z.object({
  id: objectId,
  rows: z.number().int().nonnegative(),
  /** Uncompressed canonical bytes. */
  bytes: z.number().int().nonnegative(),
  /** Key of the first row (null for tables without a primary key). */
  first: keySchema,
  /** Key of the last row (null for tables without a primary key). */
  last: keySchema,
  /** For a chunk stored as a delta: the ids of the objects it is built on, nearest first. */
  deps: z.array(objectId).optional(),
  /**
   * For a chunk written as a delta: the SHA-256 of its stored object, the exact bytes put (header
   * and compressed edit script). It proves the script without reading its base (decision 0015).
   * Absent in indexes written before it, and for a delta a snapshot found already stored.
   */
  script: objectId.optional(),
})

export type ChunkEntry = z.infer<typeof chunkEntrySchema>

const tableEntrySchema = z.object({
  schema: z.string(),
  name: z.string(),
  /** Column names, the order of values in each canonical row. */
  columns: z.array(z.string()),
  /** Primary-key columns rows are ordered and matched by; null: no key, full-row order. */
  key: z.array(z.string()).nullable(),
  /** Low key-hash bits that must be zero for a chunk boundary (docs/snapshot-format.md). */
  chunkBits: z.number().int().min(0).max(30),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  /** Object id of the chunk index: NDJSON, one ChunkEntry per chunk, in key order. */
  index: objectId,
})

export type TableEntry = z.infer<typeof tableEntrySchema>

const snapshotSourceSchema = z.object({
  engine: z.enum(ENGINE_NAMES),
  product: z.string(),
  serverVersion: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string().nullable(),
})

export type SnapshotSource = z.infer<typeof snapshotSourceSchema>

const snapshotTotalsSchema = z.object({
  tables: z.number(),
  rows: z.number(),
  /** Uncompressed canonical bytes of all rows. */
  bytes: z.number(),
  chunks: z.number(),
  /** Objects this snapshot had to write (data chunks and indexes). */
  newObjects: z.number(),
  /**
   * Bytes of the objects this snapshot added to storage: its new chunks and indexes, compressed.
   * Not its manifest, which cannot record its own size; what `snapshot`, `snapshots` and `show`
   * call "added".
   */
  newBytes: z.number(),
  /** Chunks that were already stored. */
  reusedChunks: z.number(),
})

export type SnapshotTotals = z.infer<typeof snapshotTotalsSchema>

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  /** Catalogue name: the database name unless `--name` said otherwise. `<name>@latest`. */
  name: z.string().min(1),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  source: snapshotSourceSchema,
  dbsnapVersion: z.string(),
  hostname: z.string(),
  tags: z.record(z.string(), z.string()),
  compression: z.string(),
  // The schema is checked where it is used (restore, diff); here only its outer shape.
  schema: outerShape<DatabaseSchema>(
    z.looseObject({ engine: z.string(), tables: z.array(z.unknown()) }),
  ),
  tables: z.array(tableEntrySchema),
  totals: snapshotTotalsSchema,
})

export type SnapshotManifest = z.infer<typeof manifestSchema>

/**
 * A saved diff (diff/saved-diff.ts) as far as the repository is concerned: the blocks it lists,
 * which `prune` keeps. The diff module reads the rest of it.
 */
export const savedDiffBlocksSchema = z.looseObject({
  blocks: z.array(z.looseObject({ id: objectId })),
})
