// The jobs that work on the repository alone: verify, forget (with its optional prune) and prune.

import type { StoredSnapshot } from '../repository/repository.js'
import { forgetSnapshots, type ForgetDecision, type RetentionPolicy } from '../retention/forget.js'
import { DEFAULT_PRUNE_GRACE_MS, pruneRepository, type PruneResult } from '../retention/prune.js'
import { resolveSnapshot } from '../snapshot/resolve-ref.js'
import { parseDuration } from '../util/duration.js'
import { parseDataSubset, verifyRepository, type VerifyResult } from '../verify/verify.js'
import { withRepository, type JobContext } from './context.js'
import type { JobProgress } from './events.js'
import type { ForgetJobSpec, PruneJobSpec, VerifyJobSpec } from './spec.js'

export async function runVerifyJob(
  spec: VerifyJobSpec,
  { signal, progress }: JobContext,
): Promise<VerifyResult> {
  return withRepository(spec.repository, { signal }, async (repository) => {
    let snapshots: StoredSnapshot[] | undefined
    if (spec.snapshots !== undefined) {
      snapshots = []
      for (const ref of spec.snapshots)
        snapshots.push(await resolveSnapshot(repository, ref, { signal }))
    }
    progress.phase('checking', { unit: 'objects' })
    let reading = false
    return verifyRepository(repository, {
      snapshots,
      readDataSubset:
        spec.readDataSubset === undefined ? undefined : parseDataSubset(spec.readDataSubset),
      signal,
      onProgress: (event) => {
        // Manifests, then objects present, then chunks read in full: a phase each.
        if (event.phase === 'manifests') progress.update(0, { snapshots: event.total })
        else if (event.phase === 'objects') {
          progress.total(event.total)
          progress.update(event.done, { objects: event.done })
        } else {
          if (!reading) {
            reading = true
            progress.phase('reading', { unit: 'chunks', total: event.total, done: event.done })
          }
          progress.update(event.done, { dataChunksRead: event.done })
        }
      },
    })
  })
}

/**
 * What a forget job returns: the repository it worked on (as snapshot results name it), each
 * snapshot's fate, and what the prune after it freed. `snapshots` is every snapshot of the chosen
 * names the repository held when the forget listed it, so a catalogue can also drop the ones it
 * holds that are gone (forgotten by a run whose report was lost, or by hand).
 */
export interface ForgetJobResult {
  repository: string
  dryRun: boolean
  snapshots: ForgetDecision[]
  prune: PruneResult | null
}

export async function runForgetJob(
  spec: ForgetJobSpec,
  { signal, progress }: JobContext,
): Promise<ForgetJobResult> {
  const dryRun = spec.dryRun === true
  return withRepository(spec.repository, { signal }, async (repository) => {
    const { keepWithin, ...keep } = spec.policy
    const policy: RetentionPolicy = {
      ...keep,
      keepWithinMs: keepWithin === undefined ? undefined : parseDuration(keepWithin),
    }
    progress.phase('writing', { unit: 'snapshots' })
    const snapshots = await forgetSnapshots(repository, policy, {
      names: spec.names,
      dryRun,
      signal,
      onProgress: (event) => {
        progress.total(event.total)
        progress.update(event.done + 1)
      },
    })
    const prune =
      spec.prune === true && !dryRun
        ? await pruneIn(repository, spec.grace, false, signal, progress)
        : null
    return { repository: repository.location, dryRun, snapshots, prune }
  })
}

export async function runPruneJob(
  spec: PruneJobSpec,
  { signal, progress }: JobContext,
): Promise<PruneResult> {
  return withRepository(spec.repository, { signal }, (repository) =>
    pruneIn(repository, spec.grace, spec.dryRun === true, signal, progress),
  )
}

function pruneIn(
  repository: Parameters<typeof pruneRepository>[0],
  grace: string | undefined,
  dryRun: boolean,
  signal: AbortSignal,
  progress: JobProgress,
): Promise<PruneResult> {
  let phase: 'referencing' | 'deleting' | undefined
  return pruneRepository(repository, {
    graceMs: grace === undefined ? DEFAULT_PRUNE_GRACE_MS : parseDuration(grace),
    dryRun,
    signal,
    onProgress: (event) => {
      if (event.phase !== phase) {
        phase = event.phase
        progress.phase(phase === 'referencing' ? 'checking' : 'deleting', {
          unit: phase === 'referencing' ? 'snapshots' : 'objects',
          total: event.total,
          done: event.done,
        })
      }
      progress.update(event.done)
    },
  })
}
