// Export jobs' files (issue 15, feature list 035). On an S3 repository the agent writes the export
// beside the snapshots and reports a presigned GET URL it made (the S3 credentials stay on the
// agent); on a local repository it streams the file here, where it waits in the export directory
// until one download takes it (then it is deleted) or it expires. A download of a local export is
// a link signed with an HMAC key derived from the access tokens' key: `GET /downloads/{token}`.

import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { makeDirectories } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import type { Database, ExportRow, Job } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

export interface ExportSettings {
  /** Where exports streamed by agents wait for their download. */
  dir: string
  /** The largest export an agent may stream here. */
  maxBytes: number
  /** How long an export waits for its download (and a presigned URL is taken for good). */
  ttlSeconds: number
}

/** A link to a local export lasts this long (at most until the export expires). */
export const DOWNLOAD_LINK_SECONDS = 15 * 60

/** The file extension of each export format. */
const EXTENSIONS: Record<string, string> = {
  ndjson: 'ndjson',
  json: 'json',
  ejson: 'ejson.json',
  sql: 'sql',
}

/** The name a download is saved under: `<snapshot id start>.<format's extension>`. */
export function exportFileName(job: Pick<Job, 'spec'>): string {
  const spec = JSON.parse(job.spec) as { snapshot?: string; format?: string }
  return `${(spec.snapshot ?? 'export').slice(0, 12)}.${EXTENSIONS[spec.format ?? ''] ?? 'out'}`
}

/**
 * The export job `jobId` as leased to `agentId` under `leaseId`, or `LEASE_LOST` (the fence every
 * upload passes, as reports do: a late agent cannot overwrite the export of a newer attempt).
 */
export async function leasedExportJob(
  db: Kysely<Database>,
  jobId: string,
  leaseId: string,
  agentId: string,
  now: Date = new Date(),
): Promise<Job> {
  const job = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', jobId)
    .where('leaseId', '=', leaseId)
    .where('leasedBy', '=', agentId)
    .where('state', '=', 'running')
    .where('leaseExpiresAt', '>=', timestamp(now))
    .executeTakeFirst()
  if (job === undefined) {
    throw new ControlPlaneError(
      'LEASE_LOST',
      'the job is no longer leased under this lease: it expired and went back to the queue, or the job ended',
      { details: { id: jobId, report: 'export' } },
    )
  }
  if (job.kind !== 'export') {
    throw new ControlPlaneError('INVALID_ARGUMENT', `the job is a ${job.kind} job, not an export`)
  }
  return job
}

/** Records (or replaces, for a later attempt) the presigned URL of an export on S3. */
export async function recordExportLink(
  db: Kysely<Database>,
  job: Job,
  link: { url: string; expiresAt: string; bytes: number },
  now: Date = new Date(),
): Promise<void> {
  await replaceExport(db, {
    jobId: job.id,
    projectId: job.projectId,
    storage: 's3',
    url: link.url,
    file: null,
    fileName: exportFileName(job),
    bytes: link.bytes,
    createdAt: timestamp(now),
    expiresAt: timestamp(new Date(link.expiresAt)),
    servedAt: null,
  })
}

/**
 * Stores the export an agent streams (`body`) in the export directory: written beside its name
 * and renamed when whole, `PAYLOAD_TOO_LARGE` past `maxBytes` (nothing kept). Replaces the file
 * of an earlier attempt.
 */
export async function storeExportFile(
  db: Kysely<Database>,
  settings: ExportSettings,
  job: Job,
  body: ReadableStream<Uint8Array>,
  now: Date = new Date(),
): Promise<ExportRow> {
  await makeDirectories(settings.dir, 0o700)
  const file = `${job.id}.export`
  const partial = join(settings.dir, `${file}.${randomBytes(6).toString('hex')}.part`)
  let bytes = 0
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length
      if (bytes > settings.maxBytes) {
        done(
          new ControlPlaneError(
            'PAYLOAD_TOO_LARGE',
            `the export is larger than the limit of ${settings.maxBytes} bytes (DBSNAP_CP_EXPORT_MAX_BYTES)`,
            { details: { limit: settings.maxBytes } },
          ),
        )
      } else done(null, chunk)
    },
  })
  try {
    await pipeline(
      Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]),
      limit,
      createWriteStream(partial, { mode: 0o600 }),
    )
    await rename(partial, join(settings.dir, file))
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
  const row: ExportRow = {
    jobId: job.id,
    projectId: job.projectId,
    storage: 'local',
    url: null,
    file,
    fileName: exportFileName(job),
    bytes,
    createdAt: timestamp(now),
    expiresAt: timestamp(new Date(now.getTime() + settings.ttlSeconds * 1000)),
    servedAt: null,
  }
  await replaceExport(db, row)
  return row
}

async function replaceExport(db: Kysely<Database>, row: ExportRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('exports').where('jobId', '=', row.jobId).execute()
    await trx.insertInto('exports').values(row).execute()
  })
}

/**
 * Where to download the project's export job `jobId`: its S3 URL, or a signed link to the file
 * here. `EXPORT_NOT_READY` for a job that is no export or has not succeeded; `DOWNLOAD_GONE`
 * once it expired or (a local file) was downloaded.
 */
export async function downloadOf(
  db: Kysely<Database>,
  job: Job,
  signing: { key: Uint8Array; origin: string },
  now: Date = new Date(),
): Promise<{ url: string; expiresAt: string }> {
  if (job.kind !== 'export') {
    throw new ControlPlaneError('EXPORT_NOT_READY', `the job is a ${job.kind} job, not an export`)
  }
  const row = await db
    .selectFrom('exports')
    .selectAll()
    .where('jobId', '=', job.id)
    .executeTakeFirst()
  if (job.state !== 'succeeded') {
    throw new ControlPlaneError('EXPORT_NOT_READY', `the export is not ready (${job.state})`, {
      details: { state: job.state },
    })
  }
  // The agent hands the file over before it reports success: no row left means it expired.
  if (row === undefined) throw gone('the export expired and was deleted')
  if (row.servedAt !== null) throw gone('the export was downloaded already (once)')
  const expires = new Date(row.expiresAt)
  if (expires <= now) throw gone('the export expired')
  if (row.storage === 's3') return { url: row.url!, expiresAt: expires.toISOString() }
  const until = new Date(Math.min(expires.getTime(), now.getTime() + DOWNLOAD_LINK_SECONDS * 1000))
  const token = signDownload(signing.key, job.id, until)
  return {
    url: new URL(`/api/v1/downloads/${token}`, signing.origin).href,
    expiresAt: until.toISOString(),
  }
}

/**
 * Claims the local export a download token names, once: the row is marked served in one guarded
 * statement, so two requests with the same link cannot both get the file. The file is opened,
 * then deleted (the open handle still reads it). `NOT_FOUND` for a token this control plane did
 * not sign, `DOWNLOAD_GONE` for an expired or used one.
 */
export async function claimDownload(
  db: Kysely<Database>,
  settings: ExportSettings,
  key: Uint8Array,
  token: string,
  now: Date = new Date(),
): Promise<{ row: ExportRow; stream: ReadableStream<Uint8Array> }> {
  const { jobId, until } = verifyDownload(key, token)
  if (until <= now) throw gone('the download link expired')
  const at = timestamp(now)
  const row = await db
    .updateTable('exports')
    .set({ servedAt: at })
    .where('jobId', '=', jobId)
    .where('storage', '=', 'local')
    .where('servedAt', 'is', null)
    .where('expiresAt', '>', at)
    .returningAll()
    .executeTakeFirst()
  if (row === undefined) throw gone('the export was downloaded already, or expired')
  const path = join(settings.dir, row.file!)
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path)
  } catch (err) {
    // Deleted behind the control plane's back (the directory emptied): as good as served.
    if ((err as { code?: unknown }).code === 'ENOENT') throw gone('the export file is gone')
    throw err
  }
  await rm(path, { force: true })
  const stream = Readable.toWeb(handle.createReadStream()) as ReadableStream<Uint8Array>
  return { row, stream }
}

/** Deletes local exports whose time ran out (and were never downloaded). Returns how many. */
export async function removeExpiredExports(
  db: Kysely<Database>,
  settings: ExportSettings,
  now: Date = new Date(),
): Promise<number> {
  const expired = await db
    .deleteFrom('exports')
    .where('storage', '=', 'local')
    .where('servedAt', 'is', null)
    .where('expiresAt', '<=', timestamp(now))
    .returning('file')
    .execute()
  for (const { file } of expired) await rm(join(settings.dir, file!), { force: true })
  return expired.length
}

const gone = (message: string) => new ControlPlaneError('DOWNLOAD_GONE', message)

/** The download links' key: derived from the access tokens' key, for this use only. */
export function downloadKey(signingKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', signingKey, '', 'dbsnap export download link', 32))
}

function signDownload(key: Uint8Array, jobId: string, until: Date): string {
  const payload = Buffer.from(`${jobId}.${until.getTime()}`).toString('base64url')
  return `${payload}.${mac(key, payload)}`
}

function verifyDownload(key: Uint8Array, token: string): { jobId: string; until: Date } {
  const [payload = '', sig = ''] = token.split('.')
  const expected = Buffer.from(mac(key, payload))
  const given = Buffer.from(sig)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw notFoundError('download', token.slice(0, 8))
  }
  const [jobId = '', ms = ''] = Buffer.from(payload, 'base64url').toString('utf8').split('.')
  return { jobId, until: new Date(Number(ms)) }
}

function mac(key: Uint8Array, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url')
}
