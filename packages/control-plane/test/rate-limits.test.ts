// Rate-limit counters on both dialects: hits counted atomically under concurrency (as replicas
// sharing the database make them), windows that restart, old counters swept; the per-user
// limit counted in memory and added up across replicas.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hitRateLimit, sweepRateLimits } from '../src/data/rate-limits.js'
import { DEFAULT_RATE_LIMITS, RateLimiter } from '../src/middleware/rate-limit.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const MINUTE = 60_000
const key = (): string => `test:${randomBytes(4).toString('hex')}`

describe.each(DIALECTS)('rate-limit counters on %s', (dialect) => {
  let cp: TestControlPlaneDb
  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
  })
  afterAll(async () => {
    await cp.drop()
  })

  it('count every one of concurrent hits exactly once', async () => {
    const k = key()
    const now = Date.UTC(2026, 11, 3, 12, 0, 30)
    const results = await Promise.all(
      Array.from({ length: 20 }, () => hitRateLimit(cp.db, k, MINUTE, now)),
    )
    expect(results.map((r) => r.hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    expect(results[0]!.resetAt).toBe(Date.UTC(2026, 11, 3, 12, 1, 0))
  })

  it('start again at 1 in the next window, per key', async () => {
    const [a, b] = [key(), key()]
    const t = Date.UTC(2026, 11, 3, 12, 0, 59)
    expect((await hitRateLimit(cp.db, a, MINUTE, t)).hits).toBe(1)
    expect((await hitRateLimit(cp.db, a, MINUTE, t)).hits).toBe(2)
    expect((await hitRateLimit(cp.db, b, MINUTE, t)).hits).toBe(1)
    expect((await hitRateLimit(cp.db, a, MINUTE, t + 1000)).hits).toBe(1)
  })

  it('sweep counters of windows that began before a time', async () => {
    const [old, fresh] = [key(), key()]
    await hitRateLimit(cp.db, old, MINUTE, Date.UTC(2026, 0, 1))
    await hitRateLimit(cp.db, fresh, MINUTE, Date.UTC(2026, 11, 3))
    expect(await sweepRateLimits(cp.db, new Date(Date.UTC(2026, 5, 1)))).toBeGreaterThanOrEqual(1)
    const left = await cp.db.selectFrom('rateLimits').select('key').execute()
    expect(left.map((r) => r.key)).toContain(fresh)
    expect(left.map((r) => r.key)).not.toContain(old)
  })

  it('count per-user hits in memory and add them up across replicas at each flush', async () => {
    const day = { hits: 5, windowSeconds: 24 * 60 * 60 }
    const limits = { ...DEFAULT_RATE_LIMITS, perUser: day }
    // One clock, away from midnight: both replicas count in the same day's window.
    const now = (): number => Date.UTC(2026, 11, 3, 12)
    const [a, b] = [
      new RateLimiter(cp.db, limits, { now }),
      new RateLimiter(cp.db, limits, { now }),
    ]
    const user = randomBytes(4).toString('hex')
    for (let i = 0; i < 3; i++) await a.hit('perUser', user)
    // Nothing written yet: the database is not touched on the request path.
    expect(await stored(`perUser:${user}`)).toBeUndefined()
    await a.flush()
    expect(await stored(`perUser:${user}`)).toBe(3)
    // B has not heard of A's hits until it flushes: the limit lags by one interval per replica.
    for (let i = 0; i < 2; i++) await b.hit('perUser', user)
    await b.flush()
    expect(await stored(`perUser:${user}`)).toBe(5)
    await expect(b.hit('perUser', user)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterSeconds: expect.any(Number) as number },
    })
    await a.flush()
    await expect(a.hit('perUser', 'someone-else')).resolves.toBeUndefined()
  })

  const stored = async (k: string): Promise<number | undefined> => {
    const row = await cp.db
      .selectFrom('rateLimits')
      .select('hits')
      .where('key', '=', k)
      .executeTakeFirst()
    return row === undefined ? undefined : Number(row.hits)
  }
})
