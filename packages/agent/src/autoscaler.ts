// `dbsnap-agent run --autoscale min..max`: the runner's slots follow the project's queue. Every
// few seconds the agent asks the control plane for its project's due jobs (GET /agent/queue) and
// wants `running here + pending` slots, clamped to [min, max]. It adds slots at once; it removes
// them only after wanting fewer for the whole idle time, and a removed slot finishes its job and
// its current long-poll first (runner.ts), so scaling down never aborts or loses a job.

import { DbsnapError, type Logger } from '@dbsnap/engine/core'
import type { AgentQueue } from './control-plane-client.js'

export interface AutoscaleRange {
  min: number
  max: number
}

/** The most slots one agent process runs (as DBSNAP_AGENT_CONCURRENCY). */
export const MAX_SLOTS = 64

/**
 * Reads `min..max` (`1..8`); CONFIG_INVALID unless 1 <= min <= max <= 64.
 *
 * @example parseAutoscale('2..6') // { min: 2, max: 6 }
 */
export function parseAutoscale(text: string): AutoscaleRange {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim())
  const min = Number(match?.[1])
  const max = Number(match?.[2])
  if (match === null || min < 1 || max < min || max > MAX_SLOTS) {
    throw new DbsnapError(
      'CONFIG_INVALID',
      `expected --autoscale min..max with 1 <= min <= max <= ${MAX_SLOTS}, got "${text}"`,
    )
  }
  return { min, max }
}

/** The part of the runner the autoscaler steers. */
export interface ScalableRunner {
  readonly slots: number
  readonly running: number
  readonly stopping: boolean
  addSlot(): void
  retireSlot(): void
}

export interface AutoscalerOptions {
  runner: ScalableRunner
  /** The project's queue depth (ControlPlaneClient.queue). */
  queue: () => Promise<AgentQueue>
  range: AutoscaleRange
  logger: Logger
  /** How long the agent must want fewer slots before it removes them (default 60 s). */
  idleMs?: number
  /** How often it looks at the queue (default 5 s). */
  intervalMs?: number
}

export class Autoscaler {
  readonly #options: AutoscalerOptions
  readonly #stopped = new AbortController()
  /** Since when fewer slots than there are have been wanted. */
  #fewerSince: number | undefined
  #loop: Promise<void> | undefined

  constructor(options: AutoscalerOptions) {
    this.#options = options
  }

  /** Looks at the queue every interval until `stop()`. */
  start(): void {
    this.#loop ??= this.#run()
  }

  async stop(): Promise<void> {
    this.#stopped.abort()
    await this.#loop
  }

  /** One look at the queue: adds or retires slots. Exposed for tests. */
  async tick(now: number = Date.now()): Promise<void> {
    const { runner, range, logger } = this.#options
    let queue: AgentQueue
    try {
      queue = await this.#options.queue()
    } catch (err) {
      logger.debug({ err: (err as Error).message }, 'autoscale: cannot read the queue')
      return
    }
    if (runner.stopping) return
    const wanted = Math.min(range.max, Math.max(range.min, runner.running + queue.pending))
    const slots = runner.slots
    if (wanted > slots) {
      this.#fewerSince = undefined
      for (let i = slots; i < wanted; i++) runner.addSlot()
      logger.info({ from: slots, to: wanted, pending: queue.pending }, 'autoscale: more slots')
    } else if (wanted < slots) {
      this.#fewerSince ??= now
      if (now - this.#fewerSince >= (this.#options.idleMs ?? 60_000)) {
        this.#fewerSince = undefined
        for (let i = wanted; i < slots; i++) runner.retireSlot()
        logger.info({ from: slots, to: wanted }, 'autoscale: fewer slots')
      }
    } else {
      this.#fewerSince = undefined
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stopped.signal
    while (!signal.aborted) {
      await this.tick()
      await sleep(this.#options.intervalMs ?? 5_000, signal)
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
