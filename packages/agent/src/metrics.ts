// The agent's Prometheus metrics (prom-client), served at /metrics on its health port: jobs by
// kind and outcome, their durations, bytes written to the repository, running jobs, slots, the
// last success per connection, and the outbox's size when the runner has one. The runner only
// calls the observer interface below; the gauges of its state are read at scrape time.
// Labels carry kinds, outcomes and connection ids, never names or URLs.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { LeasedJob } from './control-plane-client.js'

/** How a job ended, as this agent saw it. */
export type JobOutcome = 'succeeded' | 'failed' | 'retryable' | 'lease-lost'

/** What the runner tells its observer. Calls must not throw (the runner does not catch them). */
export interface RunnerObserver {
  onJobStarted(job: LeasedJob): void
  onJobFinished(
    job: LeasedJob,
    end: { outcome: JobOutcome; durationMs: number; result?: unknown; code?: string },
  ): void
}

/** Where the gauges of the runner's state are read from at each scrape. */
export interface AgentGaugeSources {
  running(): number
  slots(): number
  /** Reports waiting in the on-disk outbox, when the runner keeps one. */
  outbox?(): number
}

export class AgentMetrics implements RunnerObserver {
  readonly registry = new Registry()
  readonly #started: Counter<'kind'>
  readonly #jobs: Counter<'kind' | 'outcome'>
  readonly #duration: Histogram<'kind' | 'outcome'>
  readonly #bytes: Counter<'kind'>
  readonly #lastSuccess: Gauge<'connection'>
  #sources: AgentGaugeSources | undefined

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'dbsnap_agent_' })
    this.#started = new Counter({
      name: 'dbsnap_agent_jobs_started_total',
      help: 'Jobs this agent leased and started, by kind',
      labelNames: ['kind'],
      registers,
    })
    this.#jobs = new Counter({
      name: 'dbsnap_agent_jobs_total',
      help: 'Jobs this agent ran, by kind and outcome (succeeded, failed, retryable, lease-lost)',
      labelNames: ['kind', 'outcome'],
      registers,
    })
    this.#duration = new Histogram({
      name: 'dbsnap_agent_job_duration_seconds',
      help: 'How long jobs ran, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
      registers,
    })
    this.#bytes = new Counter({
      name: 'dbsnap_agent_bytes_written_total',
      help: 'New bytes written to the repository (after deduplication and compression), by kind',
      labelNames: ['kind'],
      registers,
    })
    this.#lastSuccess = new Gauge({
      name: 'dbsnap_agent_last_success_timestamp_seconds',
      help: 'When a job of each connection last succeeded on this agent (Unix time)',
      labelNames: ['connection'],
      registers,
    })
    const sources = () => this.#sources
    new Gauge({
      name: 'dbsnap_agent_running_jobs',
      help: 'Jobs running now',
      registers,
      collect() {
        this.set(sources()?.running() ?? 0)
      },
    })
    new Gauge({
      name: 'dbsnap_agent_slots',
      help: 'Slots taking jobs (the concurrency, or the autoscaler’s current count)',
      registers,
      collect() {
        this.set(sources()?.slots() ?? 0)
      },
    })
    new Gauge({
      name: 'dbsnap_agent_outbox_reports',
      help: 'Reports waiting in the outbox for the control plane (0 without an outbox)',
      registers,
      collect() {
        this.set(sources()?.outbox?.() ?? 0)
      },
    })
  }

  /** Reads the runner's state at each scrape. */
  watch(sources: AgentGaugeSources): void {
    this.#sources = sources
  }

  onJobStarted(job: LeasedJob): void {
    this.#started.inc({ kind: job.job.kind })
  }

  onJobFinished(
    job: LeasedJob,
    end: { outcome: JobOutcome; durationMs: number; result?: unknown },
  ): void {
    const labels = { kind: job.job.kind, outcome: end.outcome }
    this.#jobs.inc(labels)
    this.#duration.observe(labels, end.durationMs / 1000)
    if (end.outcome !== 'succeeded') return
    const written = newBytesOf(end.result)
    if (written !== undefined) this.#bytes.inc({ kind: job.job.kind }, written)
    if (job.connection !== null) {
      this.#lastSuccess.set({ connection: job.connection.id }, Date.now() / 1000)
    }
  }

  /** The exposition text. */
  async scrape(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** The new bytes a job's result reports (a snapshot's `totals.newBytes`), if it has any. */
function newBytesOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const totals = (result as { totals?: unknown }).totals
  if (typeof totals !== 'object' || totals === null) return undefined
  const bytes = (totals as { newBytes?: unknown }).newBytes
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0 ? bytes : undefined
}
