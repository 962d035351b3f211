// `dbsnap snapshot` as a user runs it (the built CLI, in its own process), and the repositories
// it writes: their size and their removal, on disk or S3, through the engine's own Storage.

import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { openStorage, type SnapshotResult } from '@dbsnap/engine'
import { TMP } from './results.ts'
import { GNU_TIME, run } from './run.ts'
import { ROOT } from './services.ts'
import { cliArgs } from '../../test/cli.ts'

/** The built CLI (`bin/run.js`), run by the benches as a user runs it. */
export const CLI = `${ROOT}packages/cli/bin/run.js`
/** Node's arguments for `dbsnap ...args`: the flags of the binary's shebang, then the binary. */
export { cliArgs }

export interface TimedSnapshot {
  result: SnapshotResult
  /** Wall time of the whole process, Node start-up included. */
  seconds: number
}

/** Runs `dbsnap snapshot <url> --repo <repo> --json [...extra]`, optionally under a wrapper. */
export async function snapshot(
  url: string,
  repo: string,
  options: { env?: NodeJS.ProcessEnv; extra?: string[]; wrapper?: string[] } = {},
): Promise<TimedSnapshot> {
  const argv = [
    ...(options.wrapper ?? []),
    process.execPath,
    ...cliArgs(['snapshot', url, '--repo', repo, '--json', ...(options.extra ?? [])]),
  ]
  const [command = process.execPath, ...args] = argv
  const { stdout, seconds } = await run(command, args, { env: options.env })
  return { result: JSON.parse(stdout) as SnapshotResult, seconds }
}

/** Opens a repository's storage with the S3 settings of `env` (the ones the CLI gets). */
function openWith(location: string, env: NodeJS.ProcessEnv): ReturnType<typeof openStorage> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env
  const credentials =
    accessKeyId === undefined || secretAccessKey === undefined
      ? undefined
      : { accessKeyId, secretAccessKey }
  return openStorage(location, {
    s3: { endpoint: env.AWS_ENDPOINT_URL_S3, region: env.AWS_REGION, credentials },
  })
}

/** Total bytes of every object in a repository (chunks, indexes, manifests, config). */
export async function repositoryBytes(
  location: string,
  env: NodeJS.ProcessEnv = {},
): Promise<number> {
  const storage = await openWith(location, env)
  let bytes = 0
  try {
    for await (const info of storage.list('')) bytes += info.size
  } finally {
    await storage.close()
  }
  return bytes
}

/** Deletes a repository: its directory, or every object under its S3 prefix. */
export async function removeRepository(
  location: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  if (!location.startsWith('s3://')) return rm(location, { recursive: true, force: true })
  const storage = await openWith(location, env)
  try {
    const keys: string[] = []
    for await (const info of storage.list('')) keys.push(info.key)
    for (const key of keys) await storage.delete(key)
  } finally {
    await storage.close()
  }
}

/** One timed `dbsnap snapshot` into a fresh repository: wall time, stored size, its own report. */
export interface SnapshotSample {
  seconds: number
  /** Bytes of the whole repository afterwards. */
  bytes: number
  /** The snapshot's own duration, without Node start-up. */
  inProcessSeconds: number
  /** Canonical bytes of all rows. */
  canonicalBytes: number
}

/** Snapshots into a fresh `repo` (under `wrapper`, if any), measures it, then removes it. */
export async function snapshotSample(
  url: string,
  repo: string,
  options: { env?: NodeJS.ProcessEnv; extra?: string[]; wrapper?: string[] } = {},
): Promise<SnapshotSample> {
  const env = options.env ?? {}
  await removeRepository(repo, env)
  const { seconds, result } = await snapshot(url, repo, { ...options, env })
  const bytes = await repositoryBytes(repo, env)
  await removeRepository(repo, env)
  return {
    seconds,
    bytes,
    inProcessSeconds: result.durationMs / 1000,
    canonicalBytes: result.totals.bytes,
  }
}

/**
 * Snapshots under GNU time, whose %M is the process's peak RSS (ru_maxrss, KiB): exact, not
 * sampled. The CLI is one Node process (bin/run.js spawns nothing). The repository is left.
 */
export async function snapshotPeakRss(
  url: string,
  repo: string,
  options: { env?: NodeJS.ProcessEnv; extra?: string[] } = {},
): Promise<{ run: TimedSnapshot; peakRssMiB: number }> {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} (GNU time) is needed to measure peak RSS: apt-get install time`)
  }
  const out = `${TMP}/peak-rss-${process.pid}.txt`
  const run = await snapshot(url, repo, {
    ...options,
    wrapper: [GNU_TIME, '-f', '%M', '-o', out],
  })
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1))
  await rm(out, { force: true })
  return { run, peakRssMiB: kib / 1024 }
}
