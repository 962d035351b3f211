// `forget`: which snapshots a retention policy keeps, per catalogue name, the way restic's
// `forget` decides: keep-last N, keep-within a duration, and one per day/week/month/year for
// the N most recent such periods. Forgetting removes manifests only; `prune` frees the space.

import { DbsnapError } from '../errors.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { byCodeUnit } from '../util/compare.js'

export interface RetentionPolicy {
  keepLast?: number
  /** Keep everything newer than this many milliseconds before the newest snapshot. */
  keepWithinMs?: number
  keepDaily?: number
  keepWeekly?: number
  keepMonthly?: number
  keepYearly?: number
}

export interface ForgetDecision {
  id: string
  name: string
  startedAt: string
  keep: boolean
  /** Why it is kept (`last`, `within`, `daily`, …); empty when it goes. */
  reasons: string[]
}

/** Decides per snapshot; never keeps nothing by accident: an empty policy is refused. */
export function applyPolicy(
  snapshots: StoredSnapshot[],
  policy: RetentionPolicy,
  now = new Date(),
): ForgetDecision[] {
  const rules = Object.values(policy).filter((v) => v !== undefined)
  if (rules.length === 0) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      'no retention policy given: pass at least one of --keep-last, --keep-within, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly',
    )
  }
  const groups = new Map<string, StoredSnapshot[]>()
  for (const s of snapshots) {
    const list = groups.get(s.manifest.name) ?? []
    list.push(s)
    groups.set(s.manifest.name, list)
  }
  const decisions: ForgetDecision[] = []
  for (const [name, list] of groups) {
    const newestFirst = [...list].sort((a, b) =>
      byCodeUnit(b.manifest.startedAt, a.manifest.startedAt),
    )
    const reasons = new Map<string, string[]>(newestFirst.map((s) => [s.id, []]))
    const add = (id: string, reason: string): void => void reasons.get(id)!.push(reason)
    newestFirst.slice(0, policy.keepLast ?? 0).forEach((s) => add(s.id, 'last'))
    if (policy.keepWithinMs !== undefined) {
      const newest = Date.parse(newestFirst[0]?.manifest.startedAt ?? now.toISOString())
      for (const s of newestFirst) {
        if (newest - Date.parse(s.manifest.startedAt) <= policy.keepWithinMs) add(s.id, 'within')
      }
    }
    const buckets: [keyof RetentionPolicy, string, (d: Date) => string][] = [
      ['keepDaily', 'daily', (d) => d.toISOString().slice(0, 10)],
      ['keepWeekly', 'weekly', isoWeek],
      ['keepMonthly', 'monthly', (d) => d.toISOString().slice(0, 7)],
      ['keepYearly', 'yearly', (d) => d.toISOString().slice(0, 4)],
    ]
    for (const [option, reason, bucketOf] of buckets) {
      const count = policy[option] ?? 0
      const seen = new Set<string>()
      for (const s of newestFirst) {
        if (seen.size >= count) break
        const bucket = bucketOf(new Date(s.manifest.startedAt))
        if (seen.has(bucket)) continue
        seen.add(bucket)
        add(s.id, reason)
      }
    }
    for (const s of newestFirst) {
      const why = reasons.get(s.id)!
      decisions.push({
        id: s.id,
        name,
        startedAt: s.manifest.startedAt,
        keep: why.length > 0,
        reasons: why,
      })
    }
  }
  return decisions.sort(
    (a, b) => byCodeUnit(a.name, b.name) || byCodeUnit(b.startedAt, a.startedAt),
  )
}

/** ISO 8601 week of a date (UTC), e.g. `2026-W48`. */
function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const day = d.getUTCDay() || 7
  d.setUTCDate(d.getUTCDate() + 4 - day)
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7)
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}

export interface ForgetOptions {
  /** Only snapshots of these catalogue names; default every name, each on its own. */
  names?: string[]
  dryRun?: boolean
  signal?: AbortSignal
  now?: Date
  /** Cumulative: manifests removed so far, of `total`. */
  onProgress?: (event: { done: number; total: number }) => void
}

/** Applies a policy: removes the manifests of the snapshots it does not keep (unless dry-run). */
export async function forgetSnapshots(
  repository: Repository,
  policy: RetentionPolicy,
  options: ForgetOptions = {},
): Promise<ForgetDecision[]> {
  return repository.withLock('shared', 'forget', options.signal, () =>
    forgetLocked(repository, policy, options),
  )
}

async function forgetLocked(
  repository: Repository,
  policy: RetentionPolicy,
  options: ForgetOptions,
): Promise<ForgetDecision[]> {
  const all = await repository.listSnapshots({ signal: options.signal })
  const chosen =
    options.names === undefined ? all : all.filter((s) => options.names!.includes(s.manifest.name))
  const decisions = applyPolicy(chosen, policy, options.now)
  if (options.dryRun !== true) {
    const doomed = decisions.filter((d) => !d.keep)
    for (const [done, d] of doomed.entries()) {
      options.onProgress?.({ done, total: doomed.length })
      await repository.deleteSnapshot(d.id, options.signal)
    }
  }
  return decisions
}
