// Runs the project's schedules from the agent, whether or not the control plane answers. It
// polls the schedules (`GET /agent/schedules`, a 304 while unchanged) and keeps them on disk,
// with the last tick handled per schedule, so that a restart neither forgets them nor repeats a
// tick. At each tick it asks the control plane for the tick's job (made once for all agents;
// any agent of the project then leases it); when the control plane cannot be reached it runs
// the tick itself (`runLocal`), whose reports wait in the outbox. Ticks missed while the agent
// was down give one catch-up run (schedule-clock.ts).

import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeDirectories, type Logger } from '@dbsnap/engine/core'
import {
  AgentSchedulesSchema,
  ControlPlaneCallError,
  type AgentSchedule,
  type AgentSchedules,
  type ControlPlaneClient,
} from './control-plane-client.js'
import { dueTick } from './schedule-clock.js'

export interface SchedulerOptions {
  client: Pick<ControlPlaneClient, 'schedules' | 'scheduleRun'>
  logger: Logger
  /** Where the schedules and the ticks handled are kept; in memory only without one. */
  stateDir?: string | undefined
  /**
   * Whether the schedules themselves are kept in `stateDir` (default true), so that they run while
   * the control plane cannot be reached. They hold the connections' URLs: an agent that only ever
   * runs beside the control plane (the embedded one) keeps the ticks alone.
   */
  keepSchedules?: boolean
  /** Runs a tick on this agent (the control plane is unreachable). */
  runLocal: (schedule: AgentSchedule, at: Date) => Promise<void>
  /** How often the schedules are fetched (default 30 s). */
  pollMs?: number
  /** How often ticks are looked for (default 1 s). */
  checkMs?: number
  now?: () => Date
}

const SCHEDULES_FILE = 'schedules.json'
const TICKS_FILE = 'schedule-ticks.json'

export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #now: () => Date
  #schedules: AgentSchedules = { version: '', schedules: [] }
  /** Per schedule id, the scheduled time (ISO) of the last tick handled. */
  #ticks: Record<string, string> = {}
  /** Schedules with a local run going on: their ticks meanwhile are folded into the next. */
  readonly #runningLocally = new Set<string>()
  readonly #local = new Set<Promise<void>>()
  #timer: NodeJS.Timeout | undefined
  #lastPollAt = 0
  /** Ticks before this were missed while the agent was down. */
  readonly #startedAt: Date
  #checking = false

  constructor(options: SchedulerOptions) {
    this.#options = options
    this.#now = options.now ?? (() => new Date())
    this.#startedAt = this.#now()
  }

  get #keepSchedules(): boolean {
    return this.#options.keepSchedules ?? true
  }

  get schedules(): readonly AgentSchedule[] {
    return this.#schedules.schedules
  }

  /** Loads what was kept, fetches the schedules, and checks for ticks every `checkMs`. */
  async start(): Promise<void> {
    await this.load()
    await this.refresh()
    this.#timer = setInterval(() => void this.check(), this.#options.checkMs ?? 1_000)
  }

  /** Stops looking for ticks and waits for local runs under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#local])
  }

  async load(): Promise<void> {
    const dir = this.#options.stateDir
    if (dir === undefined) return
    if (this.#keepSchedules) {
      const kept = AgentSchedulesSchema.safeParse(await readJson(join(dir, SCHEDULES_FILE)))
      if (kept.success) this.#schedules = kept.data
    }
    const ticks = await readJson(join(dir, TICKS_FILE))
    if (typeof ticks === 'object' && ticks !== null) this.#ticks = ticks as Record<string, string>
  }

  /** Fetches the schedules when they changed; keeps the ones it has when it cannot. */
  async refresh(): Promise<void> {
    this.#lastPollAt = this.#now().getTime()
    try {
      const fetched = await this.#options.client.schedules(this.#schedules.version || undefined)
      if (fetched === undefined) return
      this.#schedules = fetched
      if (this.#keepSchedules) await this.#write(SCHEDULES_FILE, fetched)
      this.#options.logger.info(
        { schedules: fetched.schedules.length, version: fetched.version },
        'schedules updated',
      )
    } catch (err) {
      this.#options.logger.warn(
        { err: (err as Error).message },
        'cannot fetch the schedules: running the ones kept',
      )
    }
  }

  /** Handles the ticks that have come (one per schedule at most). */
  async check(): Promise<void> {
    if (this.#checking) return
    this.#checking = true
    try {
      if (this.#now().getTime() - this.#lastPollAt >= (this.#options.pollMs ?? 30_000)) {
        await this.refresh()
      }
      const now = this.#now()
      let changed = false
      for (const schedule of this.#schedules.schedules) {
        const last = this.#ticks[schedule.id]
        if (last === undefined) {
          // A schedule new to this agent starts now: no run for ticks before it knew of it.
          this.#ticks[schedule.id] = now.toISOString()
          changed = true
          continue
        }
        let due
        try {
          due = dueTick(schedule.cron, schedule.timezone, new Date(last), now)
        } catch (err) {
          this.#options.logger.warn(
            { scheduleId: schedule.id, err: (err as Error).message },
            'bad schedule',
          )
          continue
        }
        if (due === undefined) continue
        this.#ticks[schedule.id] = due.at.toISOString()
        changed = true
        if (due.skipped > 0 || due.at < this.#startedAt) {
          this.#options.logger.info(
            { scheduleId: schedule.id, at: due.at.toISOString(), missed: due.skipped + 1 },
            'runs of a schedule were missed: one catch-up run',
          )
        }
        // Written before the run: a crash now loses this tick rather than repeat it.
        await this.#write(TICKS_FILE, this.#ticks)
        changed = false
        await this.#fire(schedule, due.at)
      }
      if (changed) await this.#write(TICKS_FILE, this.#ticks)
    } finally {
      this.#checking = false
    }
  }

  async #fire(schedule: AgentSchedule, at: Date): Promise<void> {
    const log = this.#options.logger.child({ scheduleId: schedule.id, at: at.toISOString() })
    try {
      const { job, created } = await this.#options.client.scheduleRun(schedule.id, at)
      log.info({ jobId: job.id, created }, 'scheduled run queued')
      return
    } catch (err) {
      if (!(err instanceof ControlPlaneCallError && err.retryable)) {
        log.warn({ err: (err as Error).message }, 'the control plane refused the scheduled run')
        return
      }
    }
    if (this.#runningLocally.has(schedule.id)) {
      log.warn('the previous local run of the schedule is still going: this tick is skipped')
      return
    }
    log.info('the control plane cannot be reached: running the schedule here')
    this.#runningLocally.add(schedule.id)
    const run = this.#options
      .runLocal(schedule, at)
      .catch((err: unknown) => log.error({ err: (err as Error).message }, 'local run failed'))
      .finally(() => {
        this.#runningLocally.delete(schedule.id)
        this.#local.delete(run)
      })
    this.#local.add(run)
  }

  async #write(file: string, value: unknown): Promise<void> {
    const dir = this.#options.stateDir
    if (dir === undefined) return
    await makeDirectories(dir, 0o700)
    await chmod(dir, 0o700)
    const path = join(dir, file)
    const temporary = `${path}.${process.pid}.tmp`
    // The schedules hold the connections' URLs: the same protection as the credential.
    await writeFile(temporary, JSON.stringify(value), { mode: 0o600 })
    await rename(temporary, path)
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch {
    return undefined
  }
}
