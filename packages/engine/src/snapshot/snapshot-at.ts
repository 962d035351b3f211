// The body of `runSnapshot`, wherever it runs (this thread or its worker): opens the repository
// from its location, takes the snapshot with the garbage governor held, closes the storage.

import { createLogger } from '../logger.js'
import { Repository } from '../repository/repository.js'
import { openStorage } from '../storage/open-storage.js'
import { holdGarbageGovernor } from '../util/bounded-memory.js'
import type { SnapshotRequest } from './run-snapshot.js'
import { createSnapshot, type SnapshotProgress, type SnapshotResult } from './snapshot.js'

/** Takes the snapshot `request` describes; call it only in a thread whose memory is bounded. */
export async function snapshotAt(
  request: SnapshotRequest,
  signal: AbortSignal,
  onProgress: (event: SnapshotProgress) => void,
): Promise<SnapshotResult> {
  const release = holdGarbageGovernor()
  const storage = await openStorage(request.repository, { create: request.create })
  try {
    const repository = await Repository.open(storage, {
      create: request.create,
      compression: request.options.compression,
      signal,
    })
    return await createSnapshot({
      ...request.options,
      repository,
      signal,
      logger: createLogger({ name: 'dbsnap', level: request.logLevel, format: request.logFormat }),
      onProgress,
    })
  } finally {
    release()
    await storage.close()
  }
}
