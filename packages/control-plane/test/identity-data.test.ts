// Sessions with rotating refresh tokens, and API keys with usage counts, on both dialects.

import { randomBytes } from 'node:crypto'
import { silentLogger, type Logger } from '@dbsnap/engine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiKeyUsage,
  createApiKey,
  findUsableApiKey,
  listApiKeys,
  recordApiKeyUse,
  revokeApiKey,
  rotateApiKey,
  scopesOf,
} from '../src/data/api-keys.js'
import { createOrg } from '../src/data/orgs.js'
import { createProject } from '../src/data/projects.js'
import {
  createSession,
  findActiveSession,
  listActiveSessions,
  revokeAllSessions,
  revokeSession,
  rotateRefreshToken,
  touchSession,
} from '../src/data/sessions.js'
import { createUser } from '../src/data/users.js'
import { newId } from '../src/db/ids.js'
import type { Org, User } from '../src/db/schema.js'
import { ApiKeyUsageRecorder } from '../src/middleware/api-key-usage.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const hex = (): string => randomBytes(32).toString('hex')
const unique = (): string => randomBytes(4).toString('hex')
// Calls that take the time from the clock fall between NOW and IN_A_MONTH.
const at = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString()
const NOW = at(0)
const LATER = at(15)
const IN_A_MONTH = at(30 * 24 * 60)

describe.each(DIALECTS)('identity data on %s', (dialect) => {
  let cp: TestControlPlaneDb
  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
  })
  afterAll(async () => {
    await cp.drop()
  })

  const user = (): Promise<User> =>
    createUser(cp.db, { email: `u-${unique()}@example.com`, passwordHash: null })
  const session = (userId: string, refreshTokenHash = hex()) =>
    createSession(cp.db, {
      userId,
      refreshTokenHash,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      expiresAt: IN_A_MONTH,
      now: NOW,
    })

  describe('sessions', () => {
    it('are active until revoked or expired, and only their user can revoke them', async () => {
      const [alice, mallory] = [await user(), await user()]
      const s = await session(alice.id)
      expect(await findActiveSession(cp.db, s.id, LATER)).toEqual(s)
      expect(await findActiveSession(cp.db, s.id, IN_A_MONTH)).toBeUndefined()
      await touchSession(cp.db, s.id, { ip: '198.51.100.1', now: LATER })
      expect(await listActiveSessions(cp.db, alice.id, LATER)).toEqual([
        { ...s, ip: '198.51.100.1', lastSeenAt: LATER },
      ])
      await expect(
        revokeSession(cp.db, { userId: mallory.id, sessionId: s.id, reason: 'revoked' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' })
      await revokeSession(cp.db, {
        userId: alice.id,
        sessionId: s.id,
        reason: 'logout',
        now: LATER,
      })
      expect(await findActiveSession(cp.db, s.id, LATER)).toBeUndefined()
      await expect(
        revokeSession(cp.db, { userId: alice.id, sessionId: s.id, reason: 'logout' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('need a user that exists', async () => {
      await expect(session(newId())).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('end everywhere but here', async () => {
      const alice = await user()
      const [here, phone, laptop] = [
        await session(alice.id),
        await session(alice.id),
        await session(alice.id),
      ]
      expect(phone.id).not.toBe(laptop.id)
      expect(await revokeAllSessions(cp.db, { userId: alice.id, exceptSessionId: here.id })).toBe(2)
      expect((await listActiveSessions(cp.db, alice.id, LATER)).map((s) => s.id)).toEqual([here.id])
      expect(await revokeAllSessions(cp.db, { userId: alice.id })).toBe(1)
      expect(await listActiveSessions(cp.db, alice.id, LATER)).toEqual([])
    })

    it('rotate the refresh token on every use', async () => {
      const alice = await user()
      const [first, second, third] = [hex(), hex(), hex()]
      const s = await session(alice.id, first)
      expect(
        await rotateRefreshToken(cp.db, { presentedHash: first, nextHash: second, now: LATER }),
      ).toEqual({
        status: 'rotated',
        session: { ...s, lastSeenAt: LATER },
      })
      expect(
        await rotateRefreshToken(cp.db, { presentedHash: second, nextHash: third }),
      ).toMatchObject({
        status: 'rotated',
      })
      expect(await rotateRefreshToken(cp.db, { presentedHash: hex(), nextHash: hex() })).toEqual({
        status: 'invalid',
      })
    })

    it('are revoked whole when a rotated refresh token comes back (theft)', async () => {
      const alice = await user()
      const [stolen, thiefs, owners] = [hex(), hex(), hex()]
      const s = await session(alice.id, stolen)
      // The thief refreshes first; the owner's next refresh presents the rotated token.
      await rotateRefreshToken(cp.db, { presentedHash: stolen, nextHash: thiefs })
      expect(await rotateRefreshToken(cp.db, { presentedHash: stolen, nextHash: owners })).toEqual({
        status: 'reused',
        sessionId: s.id,
      })
      expect(await findActiveSession(cp.db, s.id)).toBeUndefined()
      const row = await cp.db
        .selectFrom('sessions')
        .select('revokedReason')
        .where('id', '=', s.id)
        .executeTakeFirst()
      expect(row?.revokedReason).toBe('refresh-token-reused')
      // The thief's current token died with the session.
      expect(await rotateRefreshToken(cp.db, { presentedHash: thiefs, nextHash: hex() })).toEqual({
        status: 'invalid',
      })
    })

    it('count two refreshes racing with one token as one rotation and one reuse', async () => {
      const alice = await user()
      const token = hex()
      await session(alice.id, token)
      const outcomes = await Promise.all([
        rotateRefreshToken(cp.db, { presentedHash: token, nextHash: hex() }),
        rotateRefreshToken(cp.db, { presentedHash: token, nextHash: hex() }),
      ])
      expect(outcomes.map((o) => o.status).sort()).toEqual(['reused', 'rotated'])
    })
  })

  describe('API keys', () => {
    let owner: User
    let org: Org
    beforeAll(async () => {
      owner = await user()
      org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
    })
    const key = (input: { projectId?: string; expiresAt?: string; orgId?: string } = {}) =>
      createApiKey(cp.db, {
        prefix: `dbs_${unique()}${unique()}`,
        keyHash: hex(),
        name: 'ci',
        scopes: ['snapshots:read', 'diffs:read', 'snapshots:read'],
        orgId: input.orgId ?? org.id,
        ...(input.projectId === undefined ? {} : { projectId: input.projectId }),
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
        createdBy: owner.id,
        now: NOW,
      })

    it('are found by prefix while usable', async () => {
      const k = await key({ expiresAt: IN_A_MONTH })
      expect(scopesOf(k)).toEqual(['snapshots:read', 'diffs:read'])
      expect(await findUsableApiKey(cp.db, k.prefix, LATER)).toEqual(k)
      expect(await findUsableApiKey(cp.db, k.prefix, IN_A_MONTH)).toBeUndefined()
      await revokeApiKey(cp.db, org.id, k.id, LATER)
      expect(await findUsableApiKey(cp.db, k.prefix, LATER)).toBeUndefined()
      await expect(revokeApiKey(cp.db, org.id, k.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('belong to a project of their own organisation only', async () => {
      const other = await createOrg(cp.db, {
        name: 'Other',
        slug: `x-${unique()}`,
        ownerId: owner.id,
      })
      const theirs = await createProject(cp.db, { orgId: other.id, name: 'P', slug: 'p' })
      await expect(key({ projectId: theirs.id })).rejects.toMatchObject({ code: 'NOT_FOUND' })
      const mine = await createProject(cp.db, { orgId: org.id, name: 'P', slug: `p-${unique()}` })
      const k = await key({ projectId: mine.id })
      expect(await listApiKeys(cp.db, org.id, mine.id)).toEqual([k])
      expect(await listApiKeys(cp.db, other.id)).toEqual([])
      await expect(revokeApiKey(cp.db, other.id, k.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('refuse a scope that is not resource:action', async () => {
      await expect(
        createApiKey(cp.db, {
          prefix: `dbs_${unique()}`,
          keyHash: hex(),
          name: 'bad',
          scopes: ['snapshots:read diffs:write'],
          orgId: org.id,
          createdBy: owner.id,
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    })

    it('rotate with a grace period for the old key', async () => {
      const old = await key()
      const next = await rotateApiKey(cp.db, {
        orgId: org.id,
        id: old.id,
        prefix: `dbs_${unique()}${unique()}`,
        keyHash: hex(),
        createdBy: owner.id,
        graceUntil: LATER,
        now: NOW,
      })
      expect(next).toMatchObject({
        rotatedFromId: old.id,
        scopes: old.scopes,
        name: old.name,
        expiresAt: null,
      })
      expect(await findUsableApiKey(cp.db, old.prefix, NOW)).toMatchObject({ expiresAt: LATER })
      expect(await findUsableApiKey(cp.db, old.prefix, LATER)).toBeUndefined()
      expect(await findUsableApiKey(cp.db, next.prefix, LATER)).toEqual(next)
    })

    it('count requests per day and remember the last use', async () => {
      const k = await key()
      await Promise.all([
        recordApiKeyUse(cp.db, k.id, '2026-06-01T23:59:59.999Z'),
        recordApiKeyUse(cp.db, k.id, '2026-06-01T10:00:00.000Z'),
      ])
      await recordApiKeyUse(cp.db, k.id, '2026-06-02T00:00:00.000Z')
      expect(await apiKeyUsage(cp.db, k.id)).toEqual([
        { day: '2026-06-01', count: 2 },
        { day: '2026-06-02', count: 1 },
      ])
      expect(await apiKeyUsage(cp.db, k.id, '2026-06-02')).toEqual([
        { day: '2026-06-02', count: 1 },
      ])
      expect((await findUsableApiKey(cp.db, k.prefix))?.lastUsedAt).toBe('2026-06-02T00:00:00.000Z')
    })

    it('count requests in memory and write them in one go, per day, on flush', async () => {
      const k = await key()
      const gone = await key()
      const warnings: unknown[] = []
      const logger = { ...silentLogger, warn: (obj: unknown) => void warnings.push(obj) }
      const usage = new ApiKeyUsageRecorder(cp.db, logger as Logger, 60_000)
      usage.record(k.id, '2026-07-01T10:00:00.000Z')
      usage.record(k.id, '2026-07-01T12:00:00.000Z')
      usage.record(k.id, '2026-07-01T11:00:00.000Z')
      usage.record(k.id, '2026-07-02T00:00:01.000Z')
      expect(await apiKeyUsage(cp.db, k.id)).toEqual([])
      await usage.flush()
      expect(await apiKeyUsage(cp.db, k.id)).toEqual([
        { day: '2026-07-01', count: 3 },
        { day: '2026-07-02', count: 1 },
      ])
      // Counts add up across flushes (and replicas).
      usage.record(k.id, '2026-07-02T09:00:00.000Z')
      // A key deleted meanwhile: its counts are dropped with a warning, not retried for ever.
      usage.record(gone.id, '2026-07-02T09:00:00.000Z')
      await cp.db.deleteFrom('apiKeys').where('id', '=', gone.id).execute()
      await usage.close()
      expect(await apiKeyUsage(cp.db, k.id, '2026-07-02')).toEqual([
        { day: '2026-07-02', count: 2 },
      ])
      expect((await findUsableApiKey(cp.db, k.prefix))?.lastUsedAt).toBe('2026-07-02T09:00:00.000Z')
      expect(warnings).toHaveLength(1)
      await usage.flush()
      expect(warnings).toHaveLength(1)
    })
  })
})
