// The control plane's Prometheus metrics (prom-client), served at /metrics (routes/metrics.ts):
// the queue's depth and age per project and kind and the desired agents, computed at scrape time
// from one grouped query; jobs leased and finished, counted as the queue reports them; HTTP
// request durations by route pattern (never the raw path: ids would make a series per object).
// Labels carry ids and kinds only, never names or anything a user typed.

import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Kysely } from 'kysely'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { QueueEvents } from './data/jobs.js'
import {
  DEFAULT_DESIRED_AGENTS_RULE,
  desiredAgents,
  queueDepths,
  type DesiredAgentsRule,
} from './data/queue-stats.js'
import type { Database, Job, JobState } from './db/schema.js'

export class ControlPlaneMetrics implements QueueEvents {
  readonly registry = new Registry()
  readonly #rule: DesiredAgentsRule
  readonly #leased: Counter<'kind'>
  readonly #finished: Counter<'kind' | 'state'>
  readonly #expired: Counter<'kind'>
  readonly #queueJobs: Gauge<'project' | 'kind' | 'state'>
  readonly #oldest: Gauge<'project' | 'kind'>
  readonly #desired: Gauge<'project'>
  readonly #desiredTotal: Gauge
  readonly #http: Histogram<'method' | 'route' | 'status'>

  constructor(rule: DesiredAgentsRule = DEFAULT_DESIRED_AGENTS_RULE) {
    this.#rule = rule
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'dbsnap_cp_' })
    this.#leased = new Counter({
      name: 'dbsnap_cp_jobs_leased_total',
      help: 'Jobs leased to an agent, by kind',
      labelNames: ['kind'],
      registers,
    })
    this.#finished = new Counter({
      name: 'dbsnap_cp_job_reports_total',
      help: 'Results and failures agents reported, by kind and the state the job went to (pending: a retry)',
      labelNames: ['kind', 'state'],
      registers,
    })
    this.#expired = new Counter({
      name: 'dbsnap_cp_job_leases_expired_total',
      help: 'Leases that expired (the agent stopped reporting), by kind',
      labelNames: ['kind'],
      registers,
    })
    this.#queueJobs = new Gauge({
      name: 'dbsnap_cp_queue_jobs',
      help: 'Live jobs by project, kind and state: pending (due now), delayed (due later), running',
      labelNames: ['project', 'kind', 'state'],
      registers,
    })
    this.#oldest = new Gauge({
      name: 'dbsnap_cp_queue_oldest_pending_age_seconds',
      help: 'How long the oldest due pending job has waited, by project and kind',
      labelNames: ['project', 'kind'],
      registers,
    })
    this.#desired = new Gauge({
      name: 'dbsnap_cp_desired_agents',
      help: 'Agents each project should run: ceil((pending + running) / jobs per agent), clamped',
      labelNames: ['project'],
      registers,
    })
    this.#desiredTotal = new Gauge({
      name: 'dbsnap_cp_desired_agents_total',
      help: 'The sum of dbsnap_cp_desired_agents over the projects',
      registers,
    })
    this.#http = new Histogram({
      name: 'dbsnap_cp_http_request_duration_seconds',
      help: 'HTTP request durations by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
  }

  onLeased(job: Job): void {
    this.#leased.inc({ kind: job.kind })
  }

  onReported(job: Job, state: JobState): void {
    this.#finished.inc({ kind: job.kind, state })
  }

  onLeaseExpired(job: Job): void {
    this.#expired.inc({ kind: job.kind })
  }

  /** Times each request; after the route ran, so the label is its pattern (`/orgs/:orgId`). */
  http(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now()
      try {
        await next()
      } finally {
        this.#http.observe(
          { method: c.req.method, route: routePath(c, -1), status: String(c.res.status) },
          (performance.now() - started) / 1000,
        )
      }
    }
  }

  /** The exposition text, the queue gauges read afresh (one query). */
  async scrape(db: Kysely<Database>): Promise<string> {
    const depths = await queueDepths(db)
    this.#queueJobs.reset()
    this.#oldest.reset()
    this.#desired.reset()
    for (const d of depths) {
      const labels = { project: d.projectId, kind: d.kind }
      this.#queueJobs.set({ ...labels, state: 'pending' }, d.pending)
      this.#queueJobs.set({ ...labels, state: 'delayed' }, d.delayed)
      this.#queueJobs.set({ ...labels, state: 'running' }, d.running)
      this.#oldest.set(labels, d.oldestPendingAgeSeconds)
    }
    const desired = desiredAgents(depths, this.#rule)
    for (const [project, agents] of Object.entries(desired.byProject)) {
      this.#desired.set({ project }, agents)
    }
    this.#desiredTotal.set(desired.total)
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
