// API key usage (daily request counts, last-used time) counted in memory and written every few
// seconds, not on every request: a write per request held the database's one SQLite connection
// (a transaction) or cost a commit on PostgreSQL on the API's hottest path. Each replica adds its
// own counts, so they sum across replicas; a crash loses at most one interval of counts.

import type { Logger } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import { recordApiKeyUse } from '../data/api-keys.js'
import { dayOf, timestamp } from '../db/clock.js'
import type { Database, Timestamp } from '../db/schema.js'

/** How often pending counts are written. */
export const USAGE_FLUSH_INTERVAL_MS = 5000

interface Pending {
  id: string
  count: number
  /** The latest use, which also names the day counted. */
  lastUsedAt: Timestamp
}

export class ApiKeyUsageRecorder {
  readonly #db: Kysely<Database>
  readonly #logger: Logger
  /** By key id and UTC day: a day's counts stay that day's across midnight. */
  #pending = new Map<string, Pending>()
  #flushing: Promise<void> = Promise.resolve()
  readonly #timer: NodeJS.Timeout

  constructor(db: Kysely<Database>, logger: Logger, intervalMs = USAGE_FLUSH_INTERVAL_MS) {
    this.#db = db
    this.#logger = logger
    this.#timer = setInterval(() => void this.flush(), intervalMs)
    this.#timer.unref()
  }

  /** Counts one request made with key `id` now. */
  record(id: string, now: Timestamp = timestamp()): void {
    this.#add({ id, count: 1, lastUsedAt: now })
  }

  /**
   * Writes the pending counts (after any flush under way). Reads of usage call it first, so a
   * replica shows at least its own requests. A write that fails drops that key's counts (a key
   * deleted meanwhile) and keeps the others for the next flush.
   */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write())
    return this.#flushing
  }

  /** Stops the timer and writes what is pending: at shutdown, before the database closes. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return
    const batch = [...this.#pending.values()]
    this.#pending = new Map()
    for (const [i, entry] of batch.entries()) {
      try {
        await recordApiKeyUse(this.#db, entry.id, entry.lastUsedAt, entry.count)
      } catch (err) {
        // A key deleted meanwhile fails its foreign key: its counts go with it. Others wait.
        for (const rest of batch.slice(i + 1)) this.#add(rest)
        this.#logger.warn({ err, apiKeyId: entry.id }, 'API key usage not recorded')
        return
      }
    }
  }

  #add(entry: Pending): void {
    const slot = `${entry.id}/${dayOf(entry.lastUsedAt)}`
    const pending = this.#pending.get(slot)
    if (pending === undefined) this.#pending.set(slot, { ...entry })
    else {
      pending.count += entry.count
      if (entry.lastUsedAt > pending.lastUsedAt) pending.lastUsedAt = entry.lastUsedAt
    }
  }
}
