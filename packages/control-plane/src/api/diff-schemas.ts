// The shapes of diffs in the API: a diff (its two sides, its job's state, and once it succeeded
// its summary, schema changes and per-table counts and column names) and a page of its row
// changes. Stored JSON is
// parsed for the caller.

import { z } from '@hono/zod-openapi'
import type { DiffTableCounts, DiffWithJob } from '../data/diffs.js'
import { JobStateSchema } from './job-schemas.js'

const SnapshotSideSchema = z.object({
  snapshotId: z.string(),
  name: z.string(),
  takenAt: z.string(),
})

const LiveSideSchema = z.object({
  live: z.literal(true),
  connectionId: z.string().nullable(),
  /** When the live read started: null until the diff succeeded. */
  takenAt: z.string().nullable(),
})

const TableColumnsSchema = z
  .object({
    /** The key's columns (MongoDB: `["_id"]`); `[]` for a table without a primary key. */
    key: z.array(z.string()),
    /** The columns of `old` rows; null when the `from` side has no such table. */
    old: z.array(z.string()).nullable(),
    /** The columns of `new` rows; null when the `to` side has no such table. */
    new: z.array(z.string()).nullable(),
  })
  .openapi('DiffTableColumns')

/** How many rows of a table a diff added, removed and modified. */
export const TableCountsSchema = z.object({
  table: z.string(),
  added: z.number().int(),
  removed: z.number().int(),
  modified: z.number().int(),
})

const CanonicalValueSchema = z.union([z.boolean(), z.number(), z.string(), z.null()])

export const DiffSchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    state: JobStateSchema,
    /** The connection of `from` (and of the live side). */
    connectionId: z.string().nullable(),
    from: SnapshotSideSchema,
    to: z.union([SnapshotSideSchema, LiveSideSchema]),
    options: z.object({
      tables: z.array(z.string()).optional(),
      exclude: z.array(z.string()).optional(),
      schemaOnly: z.boolean().optional(),
      dataOnly: z.boolean().optional(),
    }),
    /** The engine's DiffSummary (docs/diff-format.md), once the job succeeded. */
    summary: z.record(z.string(), z.unknown()).nullable(),
    /** The engine's SchemaChange list, once the job succeeded. */
    schema: z.array(z.record(z.string(), z.unknown())).nullable(),
    /** Row changes per table (tables with at least one), once the job succeeded. */
    tables: z
      .array(
        TableCountsSchema.extend({
          /**
           * The names of the values of the table's changes: `key` in the order of a change's
           * `key`, `old` of its `old` row (the table in `from`), `new` of its `new` row (in `to`
           * or the live database); null for a diff stored before they were kept.
           */
          columns: TableColumnsSchema.nullable(),
        }),
      )
      .nullable(),
    warnings: z.array(z.string()),
    createdBy: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Diff')

export const DiffChangeSchema = z
  .object({
    /** Its place in the diff: changes are listed in (table, seq) order. */
    seq: z.number().int(),
    table: z.string(),
    schema: z.string().optional(),
    name: z.string().optional(),
    change: z.enum(['added', 'removed', 'modified']),
    key: z.array(CanonicalValueSchema).nullable(),
    old: z.array(CanonicalValueSchema).optional(),
    new: z.array(CanonicalValueSchema).optional(),
    /** For `modified`: the columns that changed; `patch`: RFC 6902 operations for documents. */
    fields: z
      .array(
        z.object({
          column: z.string(),
          old: CanonicalValueSchema,
          new: CanonicalValueSchema,
          patch: z
            .array(
              z.object({
                op: z.enum(['add', 'remove', 'replace']),
                path: z.string(),
                value: z.unknown().optional(),
              }),
            )
            .optional(),
        }),
      )
      .optional(),
    /** The change was too big to upload whole: `old`/`new` were dropped, `fields` kept. */
    truncated: z.boolean().optional(),
  })
  .openapi('DiffChange')

/** Per-table counts as stored: without `columns` in diffs that succeeded before they were kept. */
type StoredTableCounts = Omit<DiffTableCounts, 'columns'> &
  Partial<Pick<DiffTableCounts, 'columns'>>

export function diffView(diff: DiffWithJob): z.infer<typeof DiffSchema> {
  const parsed = <T>(json: string | null): T | null =>
    json === null ? null : (JSON.parse(json) as T)
  return {
    id: diff.id,
    jobId: diff.jobId,
    state: diff.state,
    connectionId: diff.connectionId,
    from: { snapshotId: diff.fromSnapshotId, name: diff.fromName, takenAt: diff.fromTakenAt },
    to:
      diff.toSnapshotId === null
        ? { live: true, connectionId: diff.connectionId, takenAt: diff.toTakenAt }
        : { snapshotId: diff.toSnapshotId, name: diff.toName!, takenAt: diff.toTakenAt! },
    options: JSON.parse(diff.options) as z.infer<typeof DiffSchema>['options'],
    summary: parsed(diff.summary),
    schema: parsed(diff.schemaChanges),
    // Diffs that succeeded before columns were kept have none.
    tables:
      parsed<StoredTableCounts[]>(diff.tableCounts)?.map((t) => ({
        ...t,
        columns: t.columns ?? null,
      })) ?? null,
    warnings: JSON.parse(diff.warnings) as string[],
    createdBy: diff.createdBy,
    createdAt: diff.createdAt,
    finishedAt: diff.finishedAt,
  }
}
