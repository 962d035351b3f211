// Repository locks: short-lived objects under `locks/` (docs/snapshot-format.md, "Locks"), taken
// through `Repository.lock`/`withLock`. Snapshot, verify, restore, export, forget and
// `diff --save` take shared locks, which go together; prune takes an exclusive one, so it never
// deletes what a running operation reads or writes.

import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { z } from 'zod'
import { DbsnapError, isDbsnapError } from '../errors.js'
import { bytesSource, type Storage } from '../storage/storage.js'
import { lockKey, LOCKS_PREFIX } from './layout.js'
import { tryParseJson } from '../util/try-parse-json.js'

const lockInfoSchema = z.object({
  kind: z.enum(['shared', 'exclusive']),
  /** What holds it: `snapshot`, `prune`, … */
  operation: z.string(),
  hostname: z.string(),
  pid: z.number(),
  createdAt: z.string(),
  refreshedAt: z.string(),
})

/** What a lock object holds. */
export type LockInfo = z.infer<typeof lockInfoSchema>

export type LockKind = LockInfo['kind']

/** A lock not refreshed for this long is stale, whoever holds it (restic uses 30 minutes). */
export const STALE_AFTER_MS = 30 * 60 * 1000
const REFRESH_EVERY_MS = 5 * 60 * 1000

export interface HeldLock {
  readonly key: string
  /** Stale locks of others this one removed on the way (exclusive locks only). */
  readonly staleRemoved: number
  /** Deletes the lock; idempotent, never throws. */
  release(): Promise<void>
}

/**
 * Takes a lock: writes it, then lists the others; on conflict removes its own and rejects with
 * `REPOSITORY_LOCKED` naming the holder. Both sides of a race see each other, so at most one wins.
 * Stale locks (not refreshed for 30 minutes, or held by a dead process on this host) are ignored
 * and, for an exclusive lock, removed.
 */
export async function acquireLock(
  storage: Storage,
  kind: LockKind,
  operation: string,
  options: { signal?: AbortSignal; now?: () => Date } = {},
): Promise<HeldLock> {
  const now = options.now ?? (() => new Date())
  const id = `${now().getTime().toString(36)}-${randomBytes(8).toString('hex')}`
  const key = lockKey(id)
  const info = (): LockInfo => ({
    kind,
    operation,
    hostname: hostname(),
    pid: process.pid,
    createdAt: createdAt,
    refreshedAt: now().toISOString(),
  })
  const createdAt = now().toISOString()
  const write = (): Promise<void> =>
    storage.put(key, bytesSource(Buffer.from(JSON.stringify(info()))), { signal: options.signal })
  await write()
  let staleRemoved = 0
  try {
    for (const other of await readLocks(storage, options.signal)) {
      if (other.key === key) continue
      if (isStale(other.info, now())) {
        if (kind === 'exclusive')
          await storage.delete(other.key).then(
            () => staleRemoved++,
            () => undefined,
          )
        continue
      }
      if (kind === 'exclusive' || other.info.kind === 'exclusive') {
        throw new DbsnapError(
          'REPOSITORY_LOCKED',
          `the repository is locked by ${other.info.operation} (pid ${other.info.pid} on ${other.info.hostname}, since ${other.info.createdAt})`,
          { retryable: true, details: { lock: other.key, ...other.info } },
        )
      }
    }
  } catch (err) {
    await storage.delete(key).catch(() => undefined)
    throw err
  }
  const timer = setInterval(() => void write().catch(() => undefined), REFRESH_EVERY_MS)
  timer.unref()
  let released = false
  return {
    key,
    staleRemoved,
    async release() {
      if (released) return
      released = true
      clearInterval(timer)
      await storage.delete(key).catch(() => undefined)
    },
  }
}

/** Every lock object, with what it says (unreadable ones count as stale). */
export async function readLocks(
  storage: Storage,
  signal?: AbortSignal,
): Promise<{ key: string; info: LockInfo }[]> {
  const out: { key: string; info: LockInfo }[] = []
  for await (const object of storage.list(LOCKS_PREFIX, { signal })) {
    let info: LockInfo | undefined
    try {
      const text = Buffer.from(await storage.get(object.key, { signal })).toString('utf8')
      info = lockInfoSchema.safeParse(tryParseJson(text)).data
    } catch (err) {
      if (isDbsnapError(err) && err.code === 'STORAGE_NOT_FOUND') continue
      if (isDbsnapError(err) && err.code !== 'DATA_CORRUPT') throw err
    }
    info ??= {
      kind: 'shared',
      operation: 'unknown',
      hostname: '',
      pid: 0,
      createdAt: object.modified.toISOString(),
      refreshedAt: new Date(0).toISOString(),
    }
    out.push({ key: object.key, info })
  }
  return out
}

/** Not refreshed for STALE_AFTER_MS, or held by a process of this host that no longer runs. */
export function isStale(info: LockInfo, now: Date): boolean {
  const refreshed = Date.parse(info.refreshedAt)
  if (!Number.isFinite(refreshed) || now.getTime() - refreshed > STALE_AFTER_MS) return true
  if (info.hostname === hostname() && info.pid !== process.pid) return !processAlive(info.pid)
  return false
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
