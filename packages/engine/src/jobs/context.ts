// What every job handler gets, and how it opens the repository its spec names: the job owns
// opening and closing it (the locks each operation needs are taken by the operation itself).

import type { Writable } from 'node:stream'
import type { Logger } from 'pino'
import type { SnapshotDiff } from '../diff/diff.js'
import { parseCodec } from '../repository/codec.js'
import { Repository } from '../repository/repository.js'
import { openStorage } from '../storage/open-storage.js'
import type { JobProgress } from './events.js'

/** What a caller in this thread may hand a job beyond its spec; none of it crosses threads. */
export interface JobSinks {
  /**
   * diff: reads the open diff (`rowChanges()`, once) to render it, before the job closes it;
   * `warnings` are the live read's caveats. Without it the job counts the changes itself.
   */
  renderDiff?: (diff: SnapshotDiff, warnings: string[]) => Promise<void>
  /** export: where the rows go when the spec names no `out` file. */
  output?: Writable
}

export interface JobContext extends JobSinks {
  signal: AbortSignal
  logger: Logger
  progress: JobProgress
}

/**
 * Opens the repository at `location`, runs `work` with it and closes it, however `work` ends.
 * `create` makes one where there is none (a snapshot's first run does).
 */
export async function withRepository<T>(
  location: string,
  options: RepositoryOpenOptions,
  work: (repository: Repository) => Promise<T>,
): Promise<T> {
  const repository = await openRepository(location, options)
  try {
    return await work(repository)
  } finally {
    await repository.close()
  }
}

export interface RepositoryOpenOptions {
  create?: boolean
  compression?: string
  signal?: AbortSignal
}

/** Opens the repository at `location`, for a caller who closes it (`withRepository` does). */
export async function openRepository(
  location: string,
  options: RepositoryOpenOptions,
): Promise<Repository> {
  const storage = await openStorage(location, { create: options.create === true })
  try {
    return await Repository.open(storage, {
      create: options.create === true,
      compression: options.compression === undefined ? undefined : parseCodec(options.compression),
      signal: options.signal,
    })
  } catch (err) {
    await storage.close()
    throw err
  }
}
