// Diffs: a user asks for one (two catalogue snapshots, or a snapshot and the live database of its
// connection); it runs as a `diff` job; the agent uploads the row changes in numbered pages while
// the engine produces them, and reports the summary, schema changes and warnings as the job's
// result. A diff's state is its job's state. Pages are fenced by the job's lease and stored under
// it: the first page of another lease (a new attempt) clears what an earlier attempt uploaded,
// and re-sending a page replaces it, so a retried upload never duplicates changes.
//
// Each page also names the columns of its changes' tables; they join the per-table counts when the
// job succeeds. Changes are read back in (table, seq) order, filtered by table, change type and a
// search string, paged by an opaque keyset cursor (decision 0030).

import { sql, type Kysely } from 'kysely'
import { z } from 'zod'
import { timestamp } from '../db/clock.js'
import { newId } from '../db/ids.js'
import type { Database, DiffChangeRow, DiffRow, Job, JobState } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import type { JobQueue } from './jobs.js'
import { holdsLease } from './jobs.js'

/** seq = page × this + the change's index in the page: at most this many changes a page. */
export const MAX_PAGE_CHANGES = 1000
/** What `q` can match is the first this many characters of a change's key and values. */
const MAX_SEARCH_CHARS = 16_384

export type ChangeType = 'added' | 'removed' | 'modified'

const Canonical = z.union([z.boolean(), z.number(), z.string(), z.null()])

/** One row change as the agent uploads it: the engine's RowChange (docs/diff-format.md). */
export const DiffChangeSchema = z.looseObject({
  table: z.string().min(1).max(1024),
  schema: z.string().max(512).optional(),
  name: z.string().max(512).optional(),
  change: z.enum(['added', 'removed', 'modified']),
  key: z.array(Canonical).nullable(),
  old: z.array(Canonical).optional(),
  new: z.array(Canonical).optional(),
  fields: z
    .array(
      z.looseObject({
        column: z.string(),
        old: Canonical,
        new: Canonical,
        patch: z.array(z.looseObject({ op: z.string(), path: z.string() })).optional(),
      }),
    )
    .optional(),
  /** Set by the agent when the change was too big to send whole: rows dropped, fields kept. */
  truncated: z.boolean().optional(),
})
export type DiffChange = z.infer<typeof DiffChangeSchema>

/** The engine's TableColumns: the names of a table's row changes' values (docs/diff-format.md). */
export const TableColumnsSchema = z.strictObject({
  key: z.array(z.string().max(1024)).max(10_000),
  old: z.array(z.string().max(1024)).max(10_000).nullable(),
  new: z.array(z.string().max(1024)).max(10_000).nullable(),
})
export type TableColumns = z.infer<typeof TableColumnsSchema>

/** A table a page's changes are in, and its columns: each page names its own tables. */
export const DiffPageTableSchema = z.strictObject({
  table: z.string().min(1).max(1024),
  columns: TableColumnsSchema,
})
export type DiffPageTable = z.infer<typeof DiffPageTableSchema>

/** One table's row changes in a succeeded diff: counts, and column names (null: not known). */
export interface DiffTableCounts extends Record<ChangeType, number> {
  table: string
  /** Null for a table the agent named no columns for (an agent older than the control plane). */
  columns: TableColumns | null
}

/** The part of the engine's DiffJobResult the diff keeps. */
const DiffResultSchema = z.object({
  summary: z.object({
    equal: z.boolean(),
    schemaChanges: z.number().int().min(0),
    tables: z.record(z.string(), z.number().int().min(0)),
    rows: z.object({
      added: z.number().int().min(0),
      removed: z.number().int().min(0),
      modified: z.number().int().min(0),
    }),
  }),
  schema: z.array(z.looseObject({ kind: z.string(), change: z.string(), object: z.string() })),
  warnings: z.array(z.string()).default([]),
  /** The later side; for a live diff, `takenAt` is when the live read started. */
  to: z.object({ takenAt: z.iso.datetime() }).optional(),
  /** What the agent uploaded: checked against what was stored. */
  upload: z.object({ pages: z.number().int().min(0), changes: z.number().int().min(0) }),
})

export interface DiffRequest {
  projectId: string
  from: string
  to?: string
  live?: boolean
  tables?: string[]
  exclude?: string[]
  schemaOnly?: boolean
  dataOnly?: boolean
  /** `user:<id>` or `api_key:<id>`. */
  createdBy: string
}

/** A diff with its job's state and times. */
export type DiffWithJob = DiffRow & {
  state: JobState
  finishedAt: string | null
}

/**
 * Queues a diff job and records the diff, in `db` (a route's transaction). `NOT_FOUND` for a
 * snapshot that is not in the project's catalogue; `INVALID_ARGUMENT` for a live diff of a
 * snapshot whose connection was deleted.
 */
export async function requestDiff(
  db: Kysely<Database>,
  queue: JobQueue,
  request: DiffRequest,
  now: Date = new Date(),
): Promise<{ diff: DiffWithJob; job: Job }> {
  const snapshot = (id: string) =>
    db
      .selectFrom('snapshots')
      .selectAll()
      .where('projectId', '=', request.projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  const from = await snapshot(request.from)
  if (from === undefined) throw notFoundError('snapshot', request.from)
  const to = request.to === undefined ? undefined : await snapshot(request.to)
  if (request.to !== undefined && to === undefined) throw notFoundError('snapshot', request.to)
  const live = request.live === true
  if (live && from.connectionId === null) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      'the snapshot’s connection was deleted: there is no live database to compare it with',
      { details: { snapshot: from.id } },
    )
  }
  const options = {
    ...(request.tables === undefined ? {} : { tables: request.tables }),
    ...(request.exclude === undefined ? {} : { exclude: request.exclude }),
    ...(request.schemaOnly === undefined ? {} : { schemaOnly: request.schemaOnly }),
    ...(request.dataOnly === undefined ? {} : { dataOnly: request.dataOnly }),
  }
  const job = await queue.in(db).enqueue(
    {
      projectId: request.projectId,
      // Only a live diff needs the connection (its URL comes with the lease).
      ...(live ? { connectionId: from.connectionId! } : {}),
      kind: 'diff',
      spec: {
        kind: 'diff',
        from: from.id,
        ...(live ? { live: true, connectionId: from.connectionId } : { to: to!.id }),
        ...options,
      },
      createdBy: request.createdBy,
    },
    now,
  )
  const row: DiffRow = {
    id: newId(now.getTime()),
    projectId: request.projectId,
    jobId: job.id,
    connectionId: from.connectionId,
    fromSnapshotId: from.id,
    fromName: from.name,
    fromTakenAt: from.finishedAt,
    toSnapshotId: to?.id ?? null,
    toName: to?.name ?? null,
    toTakenAt: to?.finishedAt ?? null,
    options: JSON.stringify(options),
    leaseId: null,
    summary: null,
    schemaChanges: null,
    tableCounts: null,
    warnings: '[]',
    createdBy: request.createdBy,
    createdAt: timestamp(now),
  }
  await db.insertInto('diffs').values(row).execute()
  return { diff: { ...row, state: job.state, finishedAt: null }, job }
}

function diffsWithJobs(db: Kysely<Database>) {
  return db
    .selectFrom('diffs')
    .innerJoin('jobs', 'jobs.id', 'diffs.jobId')
    .selectAll('diffs')
    .select(['jobs.state as state', 'jobs.finishedAt as finishedAt'])
}

/** The project's diff `diffId`; `NOT_FOUND` for another project's. */
export async function getDiff(
  db: Kysely<Database>,
  projectId: string,
  diffId: string,
): Promise<DiffWithJob> {
  const diff = await diffsWithJobs(db)
    .where('diffs.projectId', '=', projectId)
    .where('diffs.id', '=', diffId)
    .executeTakeFirst()
  if (diff === undefined) throw notFoundError('diff', diffId)
  return diff
}

export interface DiffFilter {
  connectionId?: string
  state?: JobState
  /** The previous page's `next`: the last id it listed. */
  cursor?: string
  limit?: number
}

/** The project's diffs, newest first (ids are UUIDv7), and the next page's cursor. */
export async function listDiffs(
  db: Kysely<Database>,
  projectId: string,
  filter: DiffFilter = {},
): Promise<{ diffs: DiffWithJob[]; next: string | null }> {
  const limit = filter.limit ?? 50
  const rows = await diffsWithJobs(db)
    .where('diffs.projectId', '=', projectId)
    .$if(filter.connectionId !== undefined, (q) =>
      q.where('diffs.connectionId', '=', filter.connectionId!),
    )
    .$if(filter.state !== undefined, (q) => q.where('jobs.state', '=', filter.state!))
    .$if(filter.cursor !== undefined, (q) => q.where('diffs.id', '<', filter.cursor!))
    .orderBy('diffs.id', 'desc')
    .limit(limit + 1)
    .execute()
  const page = rows.slice(0, limit)
  return { diffs: page, next: rows.length > limit ? page.at(-1)!.id : null }
}

/** The lower-cased text `q` searches: the key's and the values' text forms, one a line. */
export function searchText(change: DiffChange): string {
  const parts: string[] = []
  const add = (value: z.infer<typeof Canonical>) => {
    if (value !== null) parts.push(String(value))
  }
  for (const value of change.key ?? []) add(value)
  for (const value of change.old ?? []) add(value)
  for (const value of change.new ?? []) add(value)
  for (const field of change.fields ?? []) {
    add(field.old)
    add(field.new)
  }
  return parts.join('\n').toLowerCase().slice(0, MAX_SEARCH_CHARS)
}

/** A page of a diff's changes as the agent sends it. */
export interface DiffPage {
  /** 0, 1, 2, …: a change's place in the diff is page × MAX_PAGE_CHANGES + its index. */
  page: number
  changes: readonly DiffChange[]
  /** The columns of the tables the changes are in (older agents send none). */
  tables?: readonly DiffPageTable[]
}

/**
 * Stores a page of the diff job `jobId`'s changes, and its tables' columns, under lease
 * `leaseId`. The first page of a new lease clears an earlier attempt's pages; a page sent again
 * replaces itself. `LEASE_LOST` when the lease is not the job's current one; `INVALID_ARGUMENT`
 * for a job that is not a diff, or a page of more than MAX_PAGE_CHANGES changes.
 */
export async function storeDiffPage(
  db: Kysely<Database>,
  jobId: string,
  leaseId: string,
  { page, changes, tables = [] }: DiffPage,
  now: Date = new Date(),
): Promise<{ stored: number }> {
  if (changes.length > MAX_PAGE_CHANGES) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      `a page holds at most ${MAX_PAGE_CHANGES} changes`,
      { details: { changes: changes.length } },
    )
  }
  const at = timestamp(now)
  return inTransaction(db, async (trx) => {
    const job = await trx
      .selectFrom('jobs')
      .select(['id', 'kind'])
      .where((eb) => holdsLease(eb, jobId, leaseId, at))
      .executeTakeFirst()
    if (job === undefined) {
      throw new ControlPlaneError(
        'LEASE_LOST',
        'the job is no longer leased under this lease: it expired and went back to the queue, or the job ended',
        { details: { id: jobId, report: 'diff-changes' } },
      )
    }
    const diff = await trx
      .selectFrom('diffs')
      .select(['id', 'leaseId'])
      .where('jobId', '=', jobId)
      .executeTakeFirst()
    if (job.kind !== 'diff' || diff === undefined) {
      throw new ControlPlaneError('INVALID_ARGUMENT', 'the job is not a diff job', {
        details: { id: jobId },
      })
    }
    await claimPages(trx, diff, leaseId)
    await trx
      .deleteFrom('diffChanges')
      .where('diffId', '=', diff.id)
      .where('page', '=', page)
      .execute()
    if (changes.length > 0) {
      await trx
        .insertInto('diffChanges')
        .values(
          changes.map((change, index) => ({
            diffId: diff.id,
            seq: page * MAX_PAGE_CHANGES + index,
            page,
            tableName: change.table,
            change: change.change,
            search: searchText(change),
            body: JSON.stringify(change),
          })),
        )
        .execute()
    }
    // A table's columns are the same on every page of an attempt: the first one to name it wins.
    if (tables.length > 0) {
      await trx
        .insertInto('diffTableColumns')
        .values(
          tables.map((t) => ({
            diffId: diff.id,
            tableName: t.table,
            columns: JSON.stringify(t.columns),
          })),
        )
        .onConflict((oc) => oc.columns(['diffId', 'tableName']).doNothing())
        .execute()
    }
    return { stored: changes.length }
  })
}

/** Makes `leaseId` the diff's lease, clearing the pages an earlier lease (attempt) stored. */
async function claimPages(
  trx: Kysely<Database>,
  diff: Pick<DiffRow, 'id' | 'leaseId'>,
  leaseId: string,
): Promise<void> {
  if (diff.leaseId === leaseId) return
  await trx.deleteFrom('diffChanges').where('diffId', '=', diff.id).execute()
  await trx.deleteFrom('diffTableColumns').where('diffId', '=', diff.id).execute()
  await trx.updateTable('diffs').set({ leaseId }).where('id', '=', diff.id).execute()
}

/**
 * Records a diff job's result with the job's success (`trx`, the succeed transaction): summary,
 * schema changes, warnings, and the per-table counts of the stored changes. `INVALID_ARGUMENT`
 * when the result is not a diff result or the stored changes are not all the agent uploaded.
 */
export async function recordDiffResult(
  trx: Kysely<Database>,
  job: Pick<Job, 'id'>,
  leaseId: string,
  result: unknown,
): Promise<void> {
  const parsed = DiffResultSchema.safeParse(result)
  if (!parsed.success) {
    throw new ControlPlaneError('INVALID_ARGUMENT', 'the result is not a diff result', {
      details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    })
  }
  const diff = await trx
    .selectFrom('diffs')
    .select(['id', 'leaseId', 'toSnapshotId', 'toTakenAt'])
    .where('jobId', '=', job.id)
    .executeTakeFirst()
  if (diff === undefined) return
  await claimPages(trx, diff, leaseId)
  const counts = await countChanges(trx, diff.id)
  const r = parsed.data
  if (counts.total !== r.upload.changes) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      `the agent uploaded ${r.upload.changes} changes but ${counts.total} are stored`,
      { details: { uploaded: r.upload.changes, stored: counts.total } },
    )
  }
  const columns = await trx
    .selectFrom('diffTableColumns')
    .select(['tableName', 'columns'])
    .where('diffId', '=', diff.id)
    .execute()
  const named = new Map(columns.map((c) => [c.tableName, JSON.parse(c.columns) as TableColumns]))
  const tables: DiffTableCounts[] = counts.tables.map((t) => ({
    ...t,
    columns: named.get(t.table) ?? null,
  }))
  // Kept with the counts from now on: reading a diff stays one row.
  await trx.deleteFrom('diffTableColumns').where('diffId', '=', diff.id).execute()
  await trx
    .updateTable('diffs')
    .set({
      summary: JSON.stringify(r.summary),
      schemaChanges: JSON.stringify(r.schema),
      tableCounts: JSON.stringify(tables),
      warnings: JSON.stringify(r.warnings),
      // A live side's time is known once it was read.
      toTakenAt:
        diff.toSnapshotId === null && r.to !== undefined
          ? timestamp(new Date(r.to.takenAt))
          : diff.toTakenAt,
    })
    .where('id', '=', diff.id)
    .execute()
}

export interface ChangeFilter {
  table?: string
  type?: ChangeType
  /** Case-insensitive substring of the key's or a value's text form. */
  q?: string
  cursor?: string
  limit?: number
}

const encodeCursor = (row: Pick<DiffChangeRow, 'tableName' | 'seq'>): string =>
  Buffer.from(JSON.stringify([row.tableName, row.seq])).toString('base64url')

function decodeCursor(cursor: string): { table: string; seq: number } {
  try {
    const [table, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof table === 'string' && Number.isSafeInteger(seq)) return { table, seq: seq as number }
  } catch {
    // Falls through to the error below.
  }
  throw new ControlPlaneError('INVALID_ARGUMENT', 'the cursor is not one this API gave')
}

/** `LIKE` pattern text: `%`, `_` and the escape character itself taken literally. */
const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/** The diff's changes that pass `filter`'s table, type and search (not its cursor). */
function filteredChanges(db: Kysely<Database>, diffId: string, filter: ChangeFilter) {
  const q = filter.q?.toLowerCase()
  return db
    .selectFrom('diffChanges')
    .where('diffId', '=', diffId)
    .$if(filter.table !== undefined, (qb) => qb.where('tableName', '=', filter.table!))
    .$if(filter.type !== undefined, (qb) => qb.where('change', '=', filter.type!))
    .$if(q !== undefined && q !== '', (qb) =>
      qb.where(sql<boolean>`${sql.ref('search')} like ${`%${likeLiteral(q!)}%`} escape '\\'`),
    )
}

/**
 * A page of the diff's changes in (table, seq) order, and the cursor of the next (null at the
 * end). The cursor is the last change's (table, seq): stable while pages are added.
 */
export async function listChanges(
  db: Kysely<Database>,
  diffId: string,
  filter: ChangeFilter = {},
): Promise<{ items: (DiffChange & { seq: number })[]; nextCursor: string | null }> {
  const limit = filter.limit ?? 100
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor)
  const rows = await filteredChanges(db, diffId, filter)
    .select(['tableName', 'seq', 'body'])
    // A row-value comparison: one index range on both dialects (an OR of two would not be).
    .$if(after !== undefined, (qb) =>
      qb.where((eb) =>
        eb(eb.refTuple('tableName', 'seq'), '>', eb.tuple(after!.table, after!.seq)),
      ),
    )
    .orderBy('tableName')
    .orderBy('seq')
    .limit(limit + 1)
    .execute()
  const page = rows.slice(0, limit)
  return {
    items: page.map((r) => ({ ...(JSON.parse(r.body) as DiffChange), seq: Number(r.seq) })),
    nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null,
  }
}

/**
 * Every change of the diff that passes `filter`, in (table, seq) order, read page by page
 * (`pageSize` a query): memory holds one page, however big the diff. Stops reading when the
 * caller stops.
 */
export async function* eachChange(
  db: Kysely<Database>,
  diffId: string,
  filter: Omit<ChangeFilter, 'cursor' | 'limit'> = {},
  pageSize = MAX_PAGE_CHANGES / 2,
): AsyncGenerator<DiffChange & { seq: number }> {
  let cursor: string | undefined
  do {
    const page = await listChanges(db, diffId, { ...filter, cursor, limit: pageSize })
    yield* page.items
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
}

/**
 * How many of the diff's changes pass `filter`, per table and change type (tables with none
 * left out, in table order), and in all. One grouped count over the diff's own rows.
 */
export async function countChanges(
  db: Kysely<Database>,
  diffId: string,
  filter: Omit<ChangeFilter, 'cursor' | 'limit'> = {},
): Promise<{ total: number; tables: (Record<ChangeType, number> & { table: string })[] }> {
  const rows = await filteredChanges(db, diffId, filter)
    .select(['tableName', 'change', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['tableName', 'change'])
    .orderBy('tableName')
    .execute()
  const tables = new Map<string, Record<ChangeType, number> & { table: string }>()
  for (const row of rows) {
    const entry = tables.get(row.tableName) ?? {
      table: row.tableName,
      added: 0,
      removed: 0,
      modified: 0,
    }
    entry[row.change] = Number(row.n)
    tables.set(row.tableName, entry)
  }
  return { total: rows.reduce((n, r) => n + Number(r.n), 0), tables: [...tables.values()] }
}
