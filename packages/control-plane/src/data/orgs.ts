// Organisations and their members: the tenants, and who may do what in each (one role per
// member). An organisation always keeps at least one admin.

import { sql, type Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import { inTransaction } from '../db/transaction.js'
import type { Database, Membership, Org, Role, Timestamp } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

export interface NewOrgInput {
  name: string
  slug: string
  /** The user who creates it becomes its first admin. */
  ownerId: string
  now?: Timestamp
}

function slugTaken(slug: string) {
  return (cause: unknown) =>
    new ControlPlaneError('SLUG_TAKEN', `the slug ${JSON.stringify(slug)} is already in use`, {
      cause,
      details: { slug },
    })
}

/** Creates an organisation with its creator as admin; `SLUG_TAKEN` when the slug is used. */
export async function createOrg(db: Kysely<Database>, input: NewOrgInput): Promise<Org> {
  const org: Org = {
    id: newId(),
    name: input.name,
    slug: input.slug,
    createdAt: input.now ?? timestamp(),
  }
  await inTransaction(db, async (trx) => {
    await translateConstraints(() => trx.insertInto('orgs').values(org).execute(), {
      unique: slugTaken(input.slug),
    })
    await translateConstraints(
      () =>
        trx
          .insertInto('memberships')
          .values({ orgId: org.id, userId: input.ownerId, role: 'admin', createdAt: org.createdAt })
          .execute(),
      { 'foreign-key': (cause) => notFoundError('user', input.ownerId, cause) },
    )
  })
  return org
}

export async function findOrg(db: Kysely<Database>, id: string): Promise<Org | undefined> {
  return db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Renames an organisation; `NOT_FOUND` when there is none of this id. */
export async function renameOrg(db: Kysely<Database>, id: string, name: string): Promise<Org> {
  const org = await db
    .updateTable('orgs')
    .set({ name })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  if (org === undefined) throw notFoundError('organisation', id)
  return org
}

/** The organisations `userId` belongs to, with the role there, by name. */
export async function listOrgsOfUser(
  db: Kysely<Database>,
  userId: string,
): Promise<(Org & { role: Role })[]> {
  return db
    .selectFrom('orgs')
    .innerJoin('memberships', 'memberships.orgId', 'orgs.id')
    .selectAll('orgs')
    .select('memberships.role')
    .where('memberships.userId', '=', userId)
    .orderBy('orgs.name')
    .orderBy('orgs.id')
    .execute()
}

/**
 * Deletes an organisation with its memberships and keys. Refused with `ORG_NOT_EMPTY` while it
 * has projects (the database's RESTRICT rule): a project holds connections and snapshots,
 * deleted only on purpose, one project at a time.
 */
export async function deleteOrg(db: Kysely<Database>, id: string): Promise<void> {
  const { numDeletedRows } = await translateConstraints(
    () => db.deleteFrom('orgs').where('id', '=', id).executeTakeFirst(),
    {
      'foreign-key': (cause) =>
        new ControlPlaneError(
          'ORG_NOT_EMPTY',
          'the organisation still has projects: delete them first',
          {
            cause,
            details: { orgId: id },
          },
        ),
    },
  )
  if (numDeletedRows === 0n) throw notFoundError('organisation', id)
}

/** `userId`'s role in `orgId`, or undefined when not a member. */
export async function roleIn(
  db: Kysely<Database>,
  orgId: string,
  userId: string,
): Promise<Role | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select('role')
    .where('orgId', '=', orgId)
    .where('userId', '=', userId)
    .executeTakeFirst()
  return row?.role
}

export async function listMembers(db: Kysely<Database>, orgId: string): Promise<Membership[]> {
  return db
    .selectFrom('memberships')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('createdAt')
    .execute()
}

/** The members of `orgId` with their accounts' email addresses, in the order they joined. */
export async function listMemberAccounts(
  db: Kysely<Database>,
  orgId: string,
): Promise<(Membership & { email: string })[]> {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.userId')
    .selectAll('memberships')
    .select('users.email')
    .where('memberships.orgId', '=', orgId)
    .orderBy('memberships.createdAt')
    .orderBy('memberships.userId')
    .execute()
}

/** Adds a member; `NOT_FOUND` when the organisation or the user does not exist. */
export async function addMember(
  db: Kysely<Database>,
  input: { orgId: string; userId: string; role: Role; now?: Timestamp },
): Promise<Membership> {
  const membership: Membership = {
    orgId: input.orgId,
    userId: input.userId,
    role: input.role,
    createdAt: input.now ?? timestamp(),
  }
  await translateConstraints(() => db.insertInto('memberships').values(membership).execute(), {
    'foreign-key': (cause) =>
      notFoundError('organisation or user', `${input.orgId}/${input.userId}`, cause),
    unique: (cause) =>
      new ControlPlaneError('ALREADY_MEMBER', 'the user is already a member of the organisation', {
        cause,
      }),
  })
  return membership
}

/** Changes a member's role; `LAST_ADMIN` when that would leave the organisation without an admin. */
export async function setRole(
  db: Kysely<Database>,
  orgId: string,
  userId: string,
  role: Role,
): Promise<void> {
  await changeMembership(db, orgId, userId, async (trx) => {
    await trx
      .updateTable('memberships')
      .set({ role })
      .where('orgId', '=', orgId)
      .where('userId', '=', userId)
      .execute()
  })
}

/** Removes a member; `LAST_ADMIN` when it is the organisation's only admin. */
export async function removeMember(
  db: Kysely<Database>,
  orgId: string,
  userId: string,
): Promise<void> {
  await changeMembership(db, orgId, userId, async (trx) => {
    await trx
      .deleteFrom('memberships')
      .where('orgId', '=', orgId)
      .where('userId', '=', userId)
      .execute()
  })
}

/**
 * Applies `change` to one membership and checks, in the same transaction, that an admin
 * remains. The organisation's row is locked first (a no-op UPDATE: a row lock on PostgreSQL,
 * the write lock on SQLite), so two admins demoting each other at once cannot both succeed.
 */
async function changeMembership(
  db: Kysely<Database>,
  orgId: string,
  userId: string,
  change: (trx: Kysely<Database>) => Promise<void>,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    const locked = await trx
      .updateTable('orgs')
      .set({ id: sql<string>`id` })
      .where('id', '=', orgId)
      .executeTakeFirst()
    if (locked.numUpdatedRows === 0n) throw notFoundError('organisation', orgId)
    if ((await roleIn(trx, orgId, userId)) === undefined) throw notFoundError('member', userId)
    await change(trx)
    const admins = await trx
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('orgId', '=', orgId)
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow()
    if (Number(admins.count) === 0) {
      throw new ControlPlaneError('LAST_ADMIN', 'an organisation must keep at least one admin', {
        details: { orgId, userId },
      })
    }
  })
}
