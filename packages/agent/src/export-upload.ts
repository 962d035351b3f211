// Export jobs, around the engine's run: the engine writes the export to a temporary file, then
// the file goes where people can download it (issue 15, feature list 035). On an S3 repository
// the agent puts it beside the snapshots (`exports/<jobId>.<ext>` under the repository's prefix)
// and hands the control plane a presigned GET URL: the S3 credentials never leave this machine.
// On a local repository it streams the file to the control plane, which serves it once.
// Other jobs pass through unchanged.

import { createReadStream, openAsBlob } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStorage, type ByteSource, type JobSpec } from '@dbsnap/engine'
import { DbsnapError } from '@dbsnap/engine/core'
import {
  ControlPlaneCallError,
  type ControlPlaneClient,
  type LeasedJob,
} from './control-plane-client.js'

/** A job ready to run, and what to do with its result before it is reported. */
export interface PreparedJob {
  spec: JobSpec
  /** The result to report (an export's file handed over first). */
  finish(result: unknown): Promise<unknown>
  /** Removes what preparing made (the temporary file), whatever happened. */
  cleanup(): Promise<void>
}

export interface ExportDeps {
  client: Pick<ControlPlaneClient, 'exportLink' | 'uploadExport'>
  /** How long a presigned URL works; default 24 h, at most 7 days (SigV4). */
  linkSeconds?: number
  env?: Record<string, string | undefined>
}

/** The file extension of each export format (the control plane names downloads the same way). */
const EXTENSIONS: Record<string, string> = {
  ndjson: 'ndjson',
  json: 'json',
  ejson: 'ejson.json',
  sql: 'sql',
}

/** Prepares `spec` of `leased`: an export writes to a temporary file, handed over when done. */
export async function prepareJob(
  leased: LeasedJob,
  spec: JobSpec,
  deps: ExportDeps,
): Promise<PreparedJob> {
  if (spec.kind !== 'export') {
    return { spec, finish: (result) => Promise.resolve(result), cleanup: () => Promise.resolve() }
  }
  const dir = await mkdtemp(join(tmpdir(), 'dbsnap-export-'))
  const ext = EXTENSIONS[spec.format] ?? 'out'
  const out = join(dir, `export.${ext}`)
  return {
    spec: { ...spec, out },
    finish: async (result) => {
      const where = await handOver(leased, spec.repository, out, ext, deps)
      return { ...(result as Record<string, unknown>), out: where }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Puts the export where it is downloaded from; returns where that is, for the job's result. */
async function handOver(
  leased: LeasedJob,
  repository: string,
  file: string,
  ext: string,
  deps: ExportDeps,
): Promise<string> {
  const { id, leaseId } = leased.job
  const { size } = await stat(file)
  if (!repository.startsWith('s3://')) {
    const blob = await openAsBlob(file)
    await toControlPlane(() => deps.client.uploadExport(id, leaseId, blob))
    return 'control-plane'
  }
  const key = `exports/${id}.${ext}`
  const storage = await openStorage(repository)
  try {
    await storage.put(key, fileSource(file, size))
  } finally {
    await storage.close()
  }
  const seconds = Math.min(deps.linkSeconds ?? 24 * 3600, 7 * 24 * 3600)
  const url = await presign(repository, key, seconds, deps.env ?? process.env)
  const expiresAt = new Date(Date.now() + seconds * 1000).toISOString()
  await toControlPlane(() => deps.client.exportLink(id, leaseId, { url, expiresAt, bytes: size }))
  return `${repository.replace(/\/$/, '')}/${key}`
}

/** Attempts at handing an export over while the control plane cannot be reached, and the wait between. */
const HAND_OVER_ATTEMPTS = 4
const HAND_OVER_RETRY_MS = 2_000

/**
 * Hands the export over, trying again while the control plane cannot be reached. Its refusals
 * become the job's failure as the storage of the export: `STORAGE_FULL` past its size limit,
 * `STORAGE_UNAVAILABLE` (retryable) when it stayed away, `STORAGE_FAILED` otherwise.
 */
async function toControlPlane(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send()
      return
    } catch (err) {
      if (!(err instanceof ControlPlaneCallError)) throw err
      if (err.retryable && attempt < HAND_OVER_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, HAND_OVER_RETRY_MS * attempt))
        continue
      }
      const code =
        err.status === 413
          ? 'STORAGE_FULL'
          : err.retryable
            ? 'STORAGE_UNAVAILABLE'
            : 'STORAGE_FAILED'
      throw new DbsnapError(code, `cannot hand the export to the control plane: ${err.message}`, {
        cause: err,
        retryable: err.retryable,
      })
    }
  }
}

function fileSource(path: string, size: number): ByteSource {
  return { size, open: () => createReadStream(path) }
}

/**
 * A presigned GET URL of `key` under the repository `s3://bucket/prefix`, signed with this
 * machine's AWS settings (the same endpoint and credentials the engine's S3 storage uses).
 */
async function presign(
  repository: string,
  key: string,
  seconds: number,
  env: Record<string, string | undefined>,
): Promise<string> {
  // The AWS SDK is large: only agents that export to S3 load it.
  const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3')
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner')
  const [bucket = '', ...prefix] = repository.slice('s3://'.length).replace(/\/$/, '').split('/')
  const endpoint = nonEmpty(env['AWS_ENDPOINT_URL_S3']) ?? nonEmpty(env['AWS_ENDPOINT_URL'])
  const client = new S3Client(endpoint === undefined ? {} : { endpoint, forcePathStyle: true })
  try {
    return await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: bucket, Key: [...prefix, key].join('/') }),
      { expiresIn: seconds },
    )
  } finally {
    client.destroy()
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
