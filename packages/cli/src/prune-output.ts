// How a prune reads on a terminal: shared by `dbsnap prune` and `dbsnap forget --prune`.

import type { PruneResult } from '@dbsnap/engine'
import { formatBytes, plural } from './format.js'

/**
 * What a prune did, in one line: what it deleted or would delete, what is in use, and what it
 * kept only because it is younger than the grace period (`grace` as the user gave it).
 */
export function pruneLine(result: PruneResult, grace: string, dryRun: boolean): string {
  return [
    `${dryRun ? 'would delete' : 'deleted'} ${plural(result.objectsDeleted, 'object')} (${formatBytes(result.bytesFreed)})`,
    `${plural(result.objectsReferenced, 'object')} in use by ${plural(result.snapshots, 'snapshot')}`,
    `${plural(result.objectsInGrace, 'unreferenced object')} kept: younger than the grace period (${grace})`,
  ].join('; ')
}
