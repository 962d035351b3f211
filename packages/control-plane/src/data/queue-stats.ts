// The queue's depth and age per project and job kind, for scaling agents (GET /api/v1/admin/queue,
// GET /api/v1/agent/queue and the control plane's /metrics), and the desired-agent rule.
//
// One grouped statement over the live jobs (pending and running: the `jobs_lease_order` index
// covers it), computed when asked: no counter kept in step with the queue, nothing to drift.

import { sql, type Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import type { Database, JobKind } from '../db/schema.js'

/** The live jobs of one project and kind. */
export interface QueueDepth {
  projectId: string
  kind: JobKind
  /** Pending jobs that are due now (their `runAfter` has come): what an agent would lease. */
  pending: number
  /** Pending jobs waiting for a later `runAfter` (a retry's backoff, a delayed job). */
  delayed: number
  /** Jobs leased to an agent now. */
  running: number
  /** How long the oldest due pending job has been due, in seconds; 0 with none. */
  oldestPendingAgeSeconds: number
}

export interface QueueScope {
  /** Only these projects (an organisation's, a key's); all when undefined. */
  projectIds?: readonly string[]
}

/** The queue's live jobs grouped by project and kind, ordered by project then kind. */
export async function queueDepths(
  db: Kysely<Database>,
  scope: QueueScope = {},
  now: Date = new Date(),
): Promise<QueueDepth[]> {
  if (scope.projectIds?.length === 0) return []
  const at = timestamp(now)
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => {
      const due = eb.case().when('runAfter', '<=', at).then(1).else(0).end()
      return [
        'projectId',
        'kind',
        'state',
        due.as('due'),
        eb.fn.countAll<number | string>().as('count'),
        eb.fn.min('runAfter').as('oldestRunAfter'),
      ]
    })
    .where('state', 'in', ['pending', 'running'])
    .$if(scope.projectIds !== undefined, (q) => q.where('projectId', 'in', scope.projectIds!))
    // By the alias: PostgreSQL takes the same CASE with a second parameter for another expression.
    .groupBy(['projectId', 'kind', 'state', sql.ref('due')])
    .execute()
  const byKey = new Map<string, QueueDepth>()
  for (const row of rows) {
    const key = `${row.projectId}\u0000${row.kind}`
    let depth = byKey.get(key)
    if (depth === undefined) {
      depth = {
        projectId: row.projectId,
        kind: row.kind,
        pending: 0,
        delayed: 0,
        running: 0,
        oldestPendingAgeSeconds: 0,
      }
      byKey.set(key, depth)
    }
    const count = Number(row.count)
    if (row.state === 'running') depth.running += count
    else if (Number(row.due) === 1) {
      depth.pending += count
      const ageMs = now.getTime() - Date.parse(String(row.oldestRunAfter))
      depth.oldestPendingAgeSeconds = Math.max(0, Math.round(ageMs / 100) / 10)
    } else depth.delayed += count
  }
  return [...byKey.values()].sort(
    (a, b) => a.projectId.localeCompare(b.projectId) || a.kind.localeCompare(b.kind),
  )
}

/** The desired-agent rule's settings (DBSNAP_CP_DESIRED_AGENTS_*). */
export interface DesiredAgentsRule {
  /** Jobs one agent runs at once: its DBSNAP_AGENT_CONCURRENCY (default 1). */
  jobsPerAgent: number
  /** Fewest agents a project with live jobs should have (default 0). */
  min: number
  /** Most agents one project should have (default 10). */
  max: number
}

export const DEFAULT_DESIRED_AGENTS_RULE: DesiredAgentsRule = { jobsPerAgent: 1, min: 0, max: 10 }

export interface DesiredAgents {
  /** The sum over the projects. */
  total: number
  /** Per project with live jobs: ceil((pending + running) / jobsPerAgent), clamped to [min, max]. */
  byProject: Record<string, number>
}

/**
 * How many agents each project should run now: enough for every due and running job to have a
 * slot, `ceil((pending + running) / jobsPerAgent)`, clamped to `[min, max]`. Delayed jobs do not
 * count (they cannot be leased yet). A project with no live job is absent (0 desired, or `min`
 * kept by the scaler's own minimum: KEDA's minReplicaCount, the HPA's minReplicas).
 *
 * @example desiredAgents(depths, { jobsPerAgent: 2, min: 1, max: 4 }) // 5 pending, 0 running: 3
 */
export function desiredAgents(
  depths: readonly QueueDepth[],
  rule: DesiredAgentsRule = DEFAULT_DESIRED_AGENTS_RULE,
): DesiredAgents {
  const work = new Map<string, number>()
  for (const d of depths)
    work.set(d.projectId, (work.get(d.projectId) ?? 0) + d.pending + d.running)
  const byProject: Record<string, number> = {}
  let total = 0
  for (const [projectId, jobs] of work) {
    const wanted = Math.ceil(jobs / rule.jobsPerAgent)
    const agents = Math.min(rule.max, Math.max(rule.min, wanted))
    byProject[projectId] = agents
    total += agents
  }
  return { total, byProject }
}
