// A retention job (the engine's forget with prune) run so that a busy repository does not undo
// it: the forget (a shared lock) runs first; the prune after it needs the repository to itself
// (an exclusive lock), which a snapshot running meanwhile holds off. A prune refused for that
// (REPOSITORY_LOCKED) is put off to the next retention, and the job still succeeds with what it
// forgot — failing it would retry a forget already done and lose, for the catalogue, the list
// of what it removed.

import type { JobSpec } from '@dbsnap/engine'
import { isDbsnapError } from '@dbsnap/engine/core'
import type { RunJob } from './runner.js'

/** `runJob`, with forget + prune run as forget, then a prune that may be put off. */
export function withDeferrablePrune(runJob: RunJob): RunJob {
  return async (spec, options) => {
    if (spec.kind !== 'forget' || spec.prune !== true || spec.dryRun === true) {
      return runJob(spec, options)
    }
    const forgot = (await runJob({ ...spec, prune: false }, options)) as Record<string, unknown>
    const prune: JobSpec = {
      kind: 'prune',
      repository: spec.repository,
      ...(spec.grace === undefined ? {} : { grace: spec.grace }),
    }
    try {
      return { ...forgot, prune: await runJob(prune, options) }
    } catch (err) {
      if (!isDbsnapError(err) || err.code !== 'REPOSITORY_LOCKED') throw err
      return { ...forgot, prune: null, pruneDeferred: err.message }
    }
  }
}
