// Accounts: one row per person, found by email compared case-insensitively.

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import type { Database, Timestamp, User } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

/**
 * The form two addresses share when they name the same account: Unicode NFC, then lower case
 * (JavaScript's locale-independent folding, so SQLite and PostgreSQL agree: neither database's
 * `lower()` is asked, SQLite's folding only ASCII).
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').toLowerCase()
}

export interface NewUserInput {
  email: string
  /** argon2id PHC string, or null for an account without a password. */
  passwordHash: string | null
  /** Make the account the instance's administrator (first-run setup only). */
  instanceAdmin?: boolean
  now?: Timestamp
}

/** Creates an account; `EMAIL_TAKEN` when the address (in any case) already has one. */
export async function createUser(db: Kysely<Database>, input: NewUserInput): Promise<User> {
  const now = input.now ?? timestamp()
  const user: User = {
    id: newId(),
    email: input.email,
    emailNormalized: normalizeEmail(input.email),
    passwordHash: input.passwordHash,
    emailVerifiedAt: null,
    instanceAdminAt: input.instanceAdmin === true ? now : null,
    createdAt: now,
    updatedAt: now,
  }
  await translateConstraints(() => db.insertInto('users').values(user).execute(), {
    unique: (cause) =>
      new ControlPlaneError('EMAIL_TAKEN', 'an account with this email address already exists', {
        cause,
      }),
  })
  return user
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The account of `email`, whatever its case. */
export async function findUserByEmail(
  db: Kysely<Database>,
  email: string,
): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('emailNormalized', '=', normalizeEmail(email))
    .executeTakeFirst()
}

/** How many accounts exist: zero means the instance still waits for its first administrator. */
export async function countUsers(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow()
  return Number(count)
}

/** Replaces the password hash (a password change, or a rehash with stronger parameters). */
export async function setPasswordHash(
  db: Kysely<Database>,
  id: string,
  passwordHash: string,
  now: Timestamp = timestamp(),
): Promise<void> {
  await updateOrNotFound(db, id, { passwordHash, updatedAt: now })
}

export async function markEmailVerified(
  db: Kysely<Database>,
  id: string,
  now: Timestamp = timestamp(),
): Promise<void> {
  await updateOrNotFound(db, id, { emailVerifiedAt: now, updatedAt: now })
}

async function updateOrNotFound(
  db: Kysely<Database>,
  id: string,
  values: { passwordHash?: string; emailVerifiedAt?: Timestamp; updatedAt: Timestamp },
): Promise<void> {
  const { numUpdatedRows } = await db
    .updateTable('users')
    .set(values)
    .where('id', '=', id)
    .executeTakeFirst()
  if (numUpdatedRows === 0n) throw notFoundError('user', id)
}
