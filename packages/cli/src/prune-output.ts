// How a prune reads on a terminal: shared by `dbsnap prune` and `dbsnap forget --prune`.

import type { PruneResult } from '@dbsnap/engine'
import { formatBytes, plural } from './format.js'

/**
 * What a prune did, in one line: what it deleted or would delete, what is in use, what it kept
 * only because it is younger than the grace period (`grace` as the user gave it), and the
 * leftovers of crashed runs it removed.
 */
export function pruneLine(result: PruneResult, grace: string, dryRun: boolean): string {
  const leftovers = [
    result.temporaryFilesDeleted > 0 ? plural(result.temporaryFilesDeleted, 'temporary file') : '',
    result.staleLocksDeleted > 0 ? plural(result.staleLocksDeleted, 'stale lock') : '',
  ].filter((part) => part !== '')
  return [
    `${dryRun ? 'would delete' : 'deleted'} ${plural(result.objectsDeleted, 'object')} (${formatBytes(result.bytesFreed)})`,
    `${plural(result.objectsReferenced, 'object')} in use by ${plural(result.snapshots, 'snapshot')}`,
    `${plural(result.objectsInGrace, 'unreferenced object')} kept: younger than the grace period (${grace})`,
    ...(leftovers.length > 0 ? [`removed ${leftovers.join(' and ')} left by crashed runs`] : []),
  ].join('; ')
}
