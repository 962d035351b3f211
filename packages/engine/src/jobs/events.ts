// The one progress event of every job kind, and the reporter that emits it at a bounded rate.
// Events are cumulative (each one says where the whole job is, not what happened since the last),
// so a consumer that drops some, or joins late (a web view polling the control plane), still
// shows the truth.

import type { JobKind } from './spec.js'

/** What a job is doing. Kinds use the phases that apply to them, in this order. */
export type JobPhase =
  | 'starting'
  /**
   * snapshot, diff --live, restore --only-changed: rows read from a database; verify: data
   * chunks read in full.
   */
  | 'reading'
  /** diff: snapshots compared, changes found. */
  | 'comparing'
  /** verify: manifests, objects and chunks checked. */
  | 'checking'
  /** restore: rows written to the target; export: rows written out; forget: manifests removed. */
  | 'writing'
  /** prune: unreferenced objects deleted. */
  | 'deleting'
  /** Last objects stored, connections closed. */
  | 'finishing'
  | 'done'

/** What `done` and `total` count. */
export type JobUnit = 'rows' | 'objects' | 'chunks' | 'snapshots' | 'changes'

/** One progress event; JSON-serializable, the same envelope for every kind. */
export interface JobEvent {
  kind: JobKind
  phase: JobPhase
  /** The table being worked on, `schema.table` as users write it; null when none. */
  table: string | null
  /** How much of the work is done, in `unit`; cumulative. */
  done: number
  /** How much there is in all, when known (estimates for a snapshot's rows); else null. */
  total: number | null
  unit: JobUnit
  /** The kind's own counters, cumulative: bytes read, chunks reused, rows updated, … */
  counters: Record<string, number>
  /** Milliseconds since the job started. */
  elapsedMs: number
}

/**
 * Job-wide sums of figures an operation reports per table, cumulatively (rows read so far of
 * each table, …): each report moves the sums by its change, so a report costs the same however
 * many tables there are.
 */
export class TableSums {
  readonly #last = new Map<string, Record<string, number>>()
  readonly #sums: Record<string, number> = {}

  /** Takes `table`'s latest cumulative figures; returns the sums over every table. */
  set(table: string, figures: Record<string, number>): Readonly<Record<string, number>> {
    const last = this.#last.get(table)
    for (const [name, value] of Object.entries(figures)) {
      this.#sums[name] = (this.#sums[name] ?? 0) + value - (last?.[name] ?? 0)
    }
    this.#last.set(table, figures)
    return this.#sums
  }
}

/** At most one event per this many milliseconds, except phase changes and the last one. */
export const EVENT_INTERVAL_MS = 250

/**
 * Keeps a job's progress and emits it as `JobEvent`s: at once when the phase or table changes,
 * otherwise at most every `EVENT_INTERVAL_MS`; `finish()` always emits the last state.
 */
export class JobProgress {
  readonly #kind: JobKind
  readonly #emit: ((event: JobEvent) => void) | undefined
  readonly #started: number
  readonly #now: () => number
  readonly #interval: number
  #lastEmitted = Number.NEGATIVE_INFINITY
  #phase: JobPhase = 'starting'
  #table: string | null = null
  #done = 0
  #total: number | null = null
  #unit: JobUnit
  readonly #counters: Record<string, number> = {}

  constructor(
    kind: JobKind,
    unit: JobUnit,
    emit: ((event: JobEvent) => void) | undefined,
    options: { now?: () => number; intervalMs?: number } = {},
  ) {
    this.#kind = kind
    this.#unit = unit
    this.#emit = emit
    this.#now = options.now ?? (() => performance.now())
    this.#interval = options.intervalMs ?? EVENT_INTERVAL_MS
    this.#started = this.#now()
  }

  /** Enters a phase (and resets what `done` counts when the unit changes); emitted at once. */
  phase(
    phase: JobPhase,
    options: { unit?: JobUnit; total?: number | null; done?: number } = {},
  ): void {
    this.#phase = phase
    if (options.unit !== undefined && options.unit !== this.#unit) {
      this.#unit = options.unit
      this.#done = 0
    }
    if (options.total !== undefined) this.#total = options.total
    if (options.done !== undefined) this.#done = options.done
    this.#send(true)
  }

  /** Moves to another table; emitted at once. */
  table(table: string | null): void {
    if (table === this.#table) return
    this.#table = table
    this.#send(true)
  }

  /** Sets `done` (cumulative) and any counters (cumulative values, not increments). */
  update(done: number, counters: Record<string, number> = {}): void {
    this.#done = done
    Object.assign(this.#counters, counters)
    this.#send(false)
  }

  /** Adds to `done` and to counters. */
  add(done: number, counters: Record<string, number> = {}): void {
    this.#done += done
    for (const [name, value] of Object.entries(counters)) {
      this.#counters[name] = (this.#counters[name] ?? 0) + value
    }
    this.#send(false)
  }

  /** Sets the total once it is known. */
  total(total: number | null): void {
    this.#total = total
  }

  /** Emits the final state, phase `done`. */
  finish(): void {
    this.#phase = 'done'
    this.#table = null
    this.#send(true)
  }

  #send(now: boolean): void {
    if (this.#emit === undefined) return
    const time = this.#now()
    if (!now && time - this.#lastEmitted < this.#interval) return
    this.#lastEmitted = time
    this.#emit({
      kind: this.#kind,
      phase: this.#phase,
      table: this.#table,
      done: this.#done,
      total: this.#total,
      unit: this.#unit,
      counters: { ...this.#counters },
      elapsedMs: Math.round(time - this.#started),
    })
  }
}
