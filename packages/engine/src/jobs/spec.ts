// What a job is, as plain JSON: the one input shape of every engine operation. The CLI builds
// these from flags, the control plane stores them in its queue and the agent runs them as they
// are (docs/architecture.md, "Jobs"). Checked with zod at the door, so a stored or hand-written
// spec fails with INVALID_ARGUMENT naming the field, never deep inside an operation.

import { z } from 'zod'
import { DbsnapError } from '../errors.js'
import { EXPORT_FORMATS } from '../export/export.js'
import { parseCodec } from '../repository/codec.js'
import { parseDuration } from '../util/duration.js'
import { parseDataSubset } from '../verify/verify.js'

const text = z.string().min(1)
/** A repository: a directory or `s3://bucket/prefix`. */
const repository = text
/** A snapshot reference: an id, a unique id prefix, `name@latest` or `name@latest~N`. */
const snapshotRef = text
/** A connection URL (`postgres://…`, `mysql://…`, `mongodb://…`); redacted in logs and results. */
const connectionUrl = text
/** Tables as users write them: `schema.table`, `table` in the default schema, or a glob. */
const tableList = z.array(text).optional()
const count = z.number().int().min(0)
const duration = z.string().superRefine((value, ctx) => {
  if (!checks(() => parseDuration(value))) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 10s, 12h or 30d' })
  }
})
/** A catalogue name; it must read back in `<name>@latest~N`. */
const catalogueName = z
  .string()
  .regex(/^[\p{L}\p{N}._-]{1,128}$/u, 'expected 1 to 128 letters, digits, ".", "_" or "-"')

export const SnapshotJobSpec = z.strictObject({
  kind: z.literal('snapshot'),
  repository,
  /** Create the repository when there is none. */
  create: z.boolean().optional(),
  source: connectionUrl,
  /** Catalogue name; default the database name. */
  name: catalogueName.optional(),
  tables: tableList,
  exclude: tableList,
  /** Codec for new chunks, `zstd:6`; default the repository's. */
  compression: z
    .string()
    .superRefine((value, ctx) => {
      if (!checks(() => parseCodec(value))) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected zstd[:1-19], gzip[:1-9], deflate[:1-9] or none',
        })
      }
    })
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
  /** Reads at most this many rows a second, to spare a busy server. */
  maxRowsPerSecond: z.number().positive().optional(),
  /**
   * Connections reading tables at once, all in one consistent view; default up to 4, at most
   * the CPUs (decision 0019).
   */
  jobs: z.number().int().min(1).optional(),
})

export const DiffJobSpec = z
  .strictObject({
    kind: z.literal('diff'),
    repository,
    from: snapshotRef,
    /** The later snapshot; or `live`. */
    to: snapshotRef.optional(),
    /** Compare `from` with the live database at this URL instead of a snapshot. */
    live: connectionUrl.optional(),
    tables: tableList,
    exclude: tableList,
    schemaOnly: z.boolean().optional(),
    dataOnly: z.boolean().optional(),
    /** With `live`: read at most this many rows a second. */
    maxRowsPerSecond: z.number().positive().optional(),
    /** Store the diff in the repository (paged later by its id). */
    save: z.boolean().optional(),
  })
  .refine((spec) => (spec.to === undefined) !== (spec.live === undefined), {
    message: 'expected either `to` (a snapshot) or `live` (a connection URL), not both or neither',
  })
  .refine((spec) => spec.schemaOnly !== true || spec.dataOnly !== true, {
    message: 'expected at most one of schemaOnly and dataOnly',
  })

export const RestoreJobSpec = z
  .strictObject({
    kind: z.literal('restore'),
    repository,
    snapshot: snapshotRef,
    /** The database to restore into. */
    target: connectionUrl,
    tables: tableList,
    exclude: tableList,
    /** overwrite (default): tables end up as in the snapshot; append: insert the rows. */
    mode: z.enum(['overwrite', 'append']).optional(),
    /** append: what a row whose key is already there does; default fail. */
    onConflict: z.enum(['fail', 'skip', 'update']).optional(),
    /** overwrite tables that hold rows. */
    force: z.boolean().optional(),
    /** Plan and check only; nothing is written. */
    dryRun: z.boolean().optional(),
    /** Write back only the rows that differ from the snapshot; tables keep their schema. */
    onlyChanged: z.boolean().optional(),
    /** With onlyChanged: read the live tables at most this fast. */
    maxRowsPerSecond: z.number().positive().optional(),
  })
  .refine((spec) => spec.onConflict === undefined || spec.mode === 'append', {
    message: 'onConflict applies to mode append only',
  })
  .refine(
    (spec) =>
      spec.onlyChanged !== true ||
      (spec.mode === undefined && spec.onConflict === undefined && spec.force === undefined),
    { message: 'onlyChanged takes no mode, onConflict or force' },
  )
  .refine((spec) => spec.maxRowsPerSecond === undefined || spec.onlyChanged === true, {
    message: 'maxRowsPerSecond applies to onlyChanged only',
  })

export const VerifyJobSpec = z.strictObject({
  kind: z.literal('verify'),
  repository,
  /** The snapshots to check; absent: every one. */
  snapshots: z.array(snapshotRef).min(1).optional(),
  /** Also read this share of the data chunks in full: `5%` or `n/t`. */
  readDataSubset: z
    .string()
    .superRefine((value, ctx) => {
      if (!checks(() => parseDataSubset(value))) {
        ctx.addIssue({ code: 'custom', message: 'expected a percentage (5%) or a part n/t (1/10)' })
      }
    })
    .optional(),
})

/** At least one rule: an empty policy is refused when applied (it would remove every snapshot). */
export const RetentionPolicySpec = z.strictObject({
  keepLast: count.optional(),
  /** Keep snapshots taken within this long of the latest: `30d`. */
  keepWithin: duration.optional(),
  keepDaily: count.optional(),
  keepWeekly: count.optional(),
  keepMonthly: count.optional(),
  keepYearly: count.optional(),
})

export const ForgetJobSpec = z.strictObject({
  kind: z.literal('forget'),
  repository,
  policy: RetentionPolicySpec,
  /** Only snapshots of these catalogue names; default every name, each on its own. */
  names: z.array(text).optional(),
  dryRun: z.boolean().optional(),
  /** Then delete the data no snapshot references (a prune job). */
  prune: z.boolean().optional(),
  /** With prune: keep unreferenced objects younger than this; default `1h`. */
  grace: duration.optional(),
})

export const PruneJobSpec = z.strictObject({
  kind: z.literal('prune'),
  repository,
  /** Keep unreferenced objects younger than this; default `1h`. */
  grace: duration.optional(),
  dryRun: z.boolean().optional(),
})

export const ExportJobSpec = z
  .strictObject({
    kind: z.literal('export'),
    repository,
    snapshot: snapshotRef,
    format: z.enum(EXPORT_FORMATS),
    /** sql: the SQL dialect; default the snapshot's engine. */
    dialect: z.enum(['postgres', 'mysql']).optional(),
    tables: tableList,
    exclude: tableList,
    /** The file to write (whole or not at all); absent: the run's `output` stream. */
    out: text.optional(),
  })
  .refine((spec) => spec.dialect === undefined || spec.format === 'sql', {
    message: 'dialect applies to format sql only',
  })

export const ConnectionTestJobSpec = z.strictObject({
  kind: z.literal('connection-test'),
  source: connectionUrl,
  /** Give up connecting after this long; default `10s`. */
  timeout: duration.optional(),
})

export const JobSpec = z.discriminatedUnion('kind', [
  SnapshotJobSpec,
  DiffJobSpec,
  RestoreJobSpec,
  VerifyJobSpec,
  ForgetJobSpec,
  PruneJobSpec,
  ExportJobSpec,
  ConnectionTestJobSpec,
])

export type JobSpec = z.infer<typeof JobSpec>
export type JobKind = JobSpec['kind']
export type SnapshotJobSpec = z.infer<typeof SnapshotJobSpec>
export type DiffJobSpec = z.infer<typeof DiffJobSpec>
export type RestoreJobSpec = z.infer<typeof RestoreJobSpec>
export type VerifyJobSpec = z.infer<typeof VerifyJobSpec>
export type ForgetJobSpec = z.infer<typeof ForgetJobSpec>
export type PruneJobSpec = z.infer<typeof PruneJobSpec>
export type ExportJobSpec = z.infer<typeof ExportJobSpec>
export type ConnectionTestJobSpec = z.infer<typeof ConnectionTestJobSpec>
/** The spec of one kind of job. */
export type JobSpecOf<K extends JobKind> = Extract<JobSpec, { kind: K }>

export const JOB_KINDS = [
  'snapshot',
  'diff',
  'restore',
  'verify',
  'forget',
  'prune',
  'export',
  'connection-test',
] as const satisfies readonly JobKind[]

/**
 * Checks a job spec from anywhere (a queue, a file, a request body): the spec itself, or
 * INVALID_ARGUMENT naming every field that is wrong.
 */
export function parseJobSpec(input: unknown): JobSpec {
  const parsed = JobSpec.safeParse(input)
  if (parsed.success) return parsed.data
  const kind =
    typeof input === 'object' && input !== null && 'kind' in input ? String(input.kind) : 'a'
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
  )
  throw new DbsnapError('INVALID_ARGUMENT', `invalid ${kind} job: ${problems.join('; ')}`, {
    details: { problems },
  })
}

function checks(parse: () => unknown): boolean {
  try {
    parse()
    return true
  } catch {
    return false
  }
}
