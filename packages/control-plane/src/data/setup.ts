// First run: while the instance has no account, a start makes a one-time setup token (its link
// goes to the log); whoever presents it creates the instance's administrator. Tokens are single
// use, short-lived and stored as SHA-256 only. Creating the administrator, by link or from the
// shell, uses up every pending token in the same transaction, so two replicas' links (or a link
// and the shell) cannot make two administrators.

import { createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import type { Database, Timestamp, User } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ControlPlaneError } from '../errors.js'
import { countUsers, createUser } from './users.js'

/** How long a setup link works. */
export const SETUP_TOKEN_TTL_MS = 60 * 60 * 1000

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** A new setup token while the instance has no account; undefined once it has one. */
export async function createSetupToken(
  db: Kysely<Database>,
  now: Date = new Date(),
): Promise<string | undefined> {
  return inTransaction(db, async (trx) => {
    if ((await countUsers(trx)) > 0) return undefined
    const token = randomBytes(32).toString('base64url')
    await trx
      .insertInto('setupTokens')
      .values({
        tokenHash: hashToken(token),
        createdAt: timestamp(now),
        expiresAt: timestamp(new Date(now.getTime() + SETUP_TOKEN_TTL_MS)),
        usedAt: null,
      })
      .execute()
    return token
  })
}

/** Marks every pending token used; returns whether `tokenHash` was one of them. */
async function useUpTokens(
  trx: Kysely<Database>,
  now: Timestamp,
  tokenHash?: string,
): Promise<boolean> {
  if (tokenHash !== undefined) {
    const { numUpdatedRows } = await trx
      .updateTable('setupTokens')
      .set({ usedAt: now })
      .where('tokenHash', '=', tokenHash)
      .where('usedAt', 'is', null)
      .where('expiresAt', '>', now)
      .executeTakeFirst()
    if (numUpdatedRows === 0n) return false
  }
  await trx.updateTable('setupTokens').set({ usedAt: now }).where('usedAt', 'is', null).execute()
  return true
}

/**
 * Creates the instance's administrator with a setup token: `UNAUTHENTICATED` when the token is
 * unknown, used or expired, or when an account exists already.
 */
export async function claimSetup(
  db: Kysely<Database>,
  input: { token: string; email: string; passwordHash: string },
): Promise<User> {
  return inTransaction(db, async (trx) => {
    const now = timestamp()
    if (!(await useUpTokens(trx, now, hashToken(input.token))) || (await countUsers(trx)) > 0) {
      throw new ControlPlaneError(
        'UNAUTHENTICATED',
        'this setup link is invalid, used or expired; restart the service for a new one, or use `dbsnap-control-plane admin create`',
      )
    }
    return createUser(trx, {
      email: input.email,
      passwordHash: input.passwordHash,
      instanceAdmin: true,
      now,
    })
  })
}

/** Creates an instance administrator from the shell (whoever runs it holds the database anyway). */
export async function createInstanceAdmin(
  db: Kysely<Database>,
  input: { email: string; passwordHash: string },
): Promise<User> {
  return inTransaction(db, async (trx) => {
    const now = timestamp()
    await useUpTokens(trx, now)
    return createUser(trx, { ...input, instanceAdmin: true, now })
  })
}
