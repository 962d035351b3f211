// Sign-in sessions and their rotating refresh tokens. A session is one sign-in on one device;
// each refresh swaps its token for a new one, and a swapped-out token presented again means it
// was stolen: the whole session ends (refresh-token reuse detection, OAuth 2.0 Security BCP §4.14).

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import { inTransaction } from '../db/transaction.js'
import type { Database, Session, Timestamp } from '../db/schema.js'
import { notFoundError } from '../errors.js'

export type RevokeReason = 'logout' | 'revoked' | 'logout-everywhere' | 'refresh-token-reused'

export interface NewSessionInput {
  userId: string
  /** SHA-256 (hex) of the first refresh token. */
  refreshTokenHash: string
  ip: string | null
  userAgent: string | null
  /** When the session ends however often it is refreshed. */
  expiresAt: Timestamp
  now?: Timestamp
}

export async function createSession(
  db: Kysely<Database>,
  input: NewSessionInput,
): Promise<Session> {
  const now = input.now ?? timestamp()
  const session: Session = {
    id: newId(),
    userId: input.userId,
    ip: input.ip,
    userAgent: input.userAgent,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: input.expiresAt,
    revokedAt: null,
    revokedReason: null,
  }
  await inTransaction(db, async (trx) => {
    await translateConstraints(() => trx.insertInto('sessions').values(session).execute(), {
      'foreign-key': (cause) => notFoundError('user', input.userId, cause),
    })
    await trx
      .insertInto('refreshTokens')
      .values({
        tokenHash: input.refreshTokenHash,
        sessionId: session.id,
        createdAt: now,
        rotatedAt: null,
      })
      .execute()
  })
  return session
}

/** The session if it is neither revoked nor expired: what every authenticated request checks. */
export async function findActiveSession(
  db: Kysely<Database>,
  id: string,
  now: Timestamp = timestamp(),
): Promise<Session | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', now)
    .executeTakeFirst()
}

/** The user's active sessions, most recently seen first. */
export async function listActiveSessions(
  db: Kysely<Database>,
  userId: string,
  now: Timestamp = timestamp(),
): Promise<Session[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('userId', '=', userId)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', now)
    .orderBy('lastSeenAt', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

/** Records activity on a session (shown to the user as "last seen"). */
export async function touchSession(
  db: Kysely<Database>,
  id: string,
  details: { ip?: string | null; now?: Timestamp } = {},
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({
      lastSeenAt: details.now ?? timestamp(),
      ...(details.ip === undefined ? {} : { ip: details.ip }),
    })
    .where('id', '=', id)
    .execute()
}

/**
 * Ends one of `userId`'s sessions; `NOT_FOUND` when it is not theirs or already ended (one
 * user's session ids mean nothing to another).
 */
export async function revokeSession(
  db: Kysely<Database>,
  input: { userId: string; sessionId: string; reason: RevokeReason; now?: Timestamp },
): Promise<void> {
  const { numUpdatedRows } = await db
    .updateTable('sessions')
    .set({ revokedAt: input.now ?? timestamp(), revokedReason: input.reason })
    .where('id', '=', input.sessionId)
    .where('userId', '=', input.userId)
    .where('revokedAt', 'is', null)
    .executeTakeFirst()
  if (numUpdatedRows === 0n) throw notFoundError('session', input.sessionId)
}

/** Ends every active session of the user ("log out everywhere"), but `exceptSessionId`; returns how many. */
export async function revokeAllSessions(
  db: Kysely<Database>,
  input: { userId: string; exceptSessionId?: string; now?: Timestamp },
): Promise<number> {
  const { numUpdatedRows } = await db
    .updateTable('sessions')
    .set({ revokedAt: input.now ?? timestamp(), revokedReason: 'logout-everywhere' })
    .where('userId', '=', input.userId)
    .where('revokedAt', 'is', null)
    .$if(input.exceptSessionId !== undefined, (q) => q.where('id', '!=', input.exceptSessionId!))
    .executeTakeFirst()
  return Number(numUpdatedRows)
}

export type RotateOutcome =
  /** The token was current: it is now rotated, and `nextHash` is the session's token. */
  | { status: 'rotated'; session: Session }
  /** The token had been rotated already: presented again, it was stolen; the session is revoked. */
  | { status: 'reused'; sessionId: string }
  /** No such token, or its session has ended. */
  | { status: 'invalid' }

/**
 * Exchanges the refresh token hashed `presentedHash` for the one hashed `nextHash`, in one
 * transaction. The rotation is a conditional UPDATE (`rotated_at IS NULL`), so of two requests
 * presenting the same token at once, one rotates it and the other counts as a reuse.
 */
export async function rotateRefreshToken(
  db: Kysely<Database>,
  input: { presentedHash: string; nextHash: string; now?: Timestamp },
): Promise<RotateOutcome> {
  const now = input.now ?? timestamp()
  return inTransaction(db, async (trx): Promise<RotateOutcome> => {
    const token = await trx
      .selectFrom('refreshTokens')
      .select(['sessionId', 'rotatedAt'])
      .where('tokenHash', '=', input.presentedHash)
      .executeTakeFirst()
    if (token === undefined) return { status: 'invalid' }
    const session = await findActiveSession(trx, token.sessionId, now)
    if (session === undefined) return { status: 'invalid' }
    const rotated =
      token.rotatedAt === null
        ? await trx
            .updateTable('refreshTokens')
            .set({ rotatedAt: now })
            .where('tokenHash', '=', input.presentedHash)
            .where('rotatedAt', 'is', null)
            .executeTakeFirst()
        : undefined
    if (rotated === undefined || rotated.numUpdatedRows === 0n) {
      await trx
        .updateTable('sessions')
        .set({ revokedAt: now, revokedReason: 'refresh-token-reused' })
        .where('id', '=', session.id)
        .execute()
      return { status: 'reused', sessionId: session.id }
    }
    await trx
      .insertInto('refreshTokens')
      .values({ tokenHash: input.nextHash, sessionId: session.id, createdAt: now, rotatedAt: null })
      .execute()
    await trx
      .updateTable('sessions')
      .set({ lastSeenAt: now })
      .where('id', '=', session.id)
      .execute()
    return { status: 'rotated', session: { ...session, lastSeenAt: now } }
  })
}
