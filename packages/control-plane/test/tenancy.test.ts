// Users, organisations, memberships and projects on both dialects: the rules the database
// keeps (unique emails in any case, no orphans, an org with projects is not deleted) and the
// ones the data layer keeps (one admin at least, tenants scoped by organisation).

import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../src/data/api-keys.js'
import {
  addMember,
  createOrg,
  deleteOrg,
  findOrg,
  listMembers,
  listOrgsOfUser,
  removeMember,
  roleIn,
  setRole,
} from '../src/data/orgs.js'
import { createProject, deleteProject, findProject, listProjects } from '../src/data/projects.js'
import {
  countUsers,
  createUser,
  findUserByEmail,
  findUserById,
  markEmailVerified,
  setPasswordHash,
} from '../src/data/users.js'
import { newId } from '../src/db/ids.js'
import type { User } from '../src/db/schema.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const unique = (): string => randomBytes(4).toString('hex')

describe.each(DIALECTS)('tenancy on %s', (dialect) => {
  let cp: TestControlPlaneDb
  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
  })
  afterAll(async () => {
    await cp.drop()
  })

  const user = (email = `user-${unique()}@example.com`): Promise<User> =>
    createUser(cp.db, { email, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' })

  /** Rows anywhere that still name the organisation (there must be none after it is deleted). */
  async function rowsOfOrg(orgId: string): Promise<number> {
    const counts = await Promise.all(
      (['memberships', 'projects', 'apiKeys'] as const).map((table) =>
        cp.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('orgId', '=', orgId)
          .executeTakeFirstOrThrow(),
      ),
    )
    return counts.reduce((sum, { n }) => sum + Number(n), 0)
  }

  describe('users', () => {
    it('keeps an email unique whatever its case, and finds it in any case', async () => {
      const name = `Alice.${unique()}`
      const alice = await user(`${name}@Example.COM`)
      expect(alice.email).toBe(`${name}@Example.COM`)
      await expect(user(`${name.toUpperCase()}@example.com`)).rejects.toMatchObject({
        code: 'EMAIL_TAKEN',
      })
      expect((await findUserByEmail(cp.db, `${name.toLowerCase()}@EXAMPLE.com`))?.id).toBe(alice.id)
    })

    it('folds non-ASCII letters the same way on both dialects', async () => {
      const local = `zoë-ångström-${unique()}`
      await user(`${local}@example.com`)
      await expect(user(`${local.toUpperCase()}@EXAMPLE.COM`)).rejects.toMatchObject({
        code: 'EMAIL_TAKEN',
      })
      // NFD (e + combining diaeresis) is the same address as NFC ë.
      await expect(user(`${local.normalize('NFD')}@example.com`)).rejects.toMatchObject({
        code: 'EMAIL_TAKEN',
      })
    })

    it('stores SQL metacharacters and unicode as given', async () => {
      const email = `o'brien";drop table users;--${unique()}@ex.com`
      const created = await user(email)
      expect(await findUserById(cp.db, created.id)).toEqual(created)
      expect(await countUsers(cp.db)).toBeGreaterThan(0)
    })

    it('reads back times exactly as written', async () => {
      const now = '2026-01-02T03:04:05.678Z'
      const created = await createUser(cp.db, {
        email: `t-${unique()}@example.com`,
        passwordHash: null,
        now,
      })
      await markEmailVerified(cp.db, created.id, '2026-01-02T03:04:06.000Z')
      await setPasswordHash(cp.db, created.id, 'new-hash', '2026-01-02T03:04:07.001Z')
      expect(await findUserById(cp.db, created.id)).toEqual({
        ...created,
        passwordHash: 'new-hash',
        emailVerifiedAt: '2026-01-02T03:04:06.000Z',
        updatedAt: '2026-01-02T03:04:07.001Z',
      })
      await expect(setPasswordHash(cp.db, newId(), 'x')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      })
    })
  })

  describe('organisations and members', () => {
    it('makes the creator the first admin, and keeps slugs unique', async () => {
      const owner = await user()
      const slug = `acme-${unique()}`
      const org = await createOrg(cp.db, { name: 'Acme', slug, ownerId: owner.id })
      expect(await findOrg(cp.db, org.id)).toEqual(org)
      expect(await roleIn(cp.db, org.id, owner.id)).toBe('admin')
      expect(await listOrgsOfUser(cp.db, owner.id)).toEqual([{ ...org, role: 'admin' }])
      await expect(
        createOrg(cp.db, { name: 'Acme 2', slug, ownerId: owner.id }),
      ).rejects.toMatchObject({
        code: 'SLUG_TAKEN',
      })
    })

    it('creates nothing for an owner that does not exist', async () => {
      const slug = `ghost-${unique()}`
      await expect(
        createOrg(cp.db, { name: 'Ghost', slug, ownerId: newId() }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      })
      const orgs = await cp.db.selectFrom('orgs').select('id').where('slug', '=', slug).execute()
      expect(orgs).toEqual([])
    })

    it('keeps at least one admin', async () => {
      const [owner, other] = [await user(), await user()]
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      await expect(setRole(cp.db, org.id, owner.id, 'member')).rejects.toMatchObject({
        code: 'LAST_ADMIN',
      })
      await expect(removeMember(cp.db, org.id, owner.id)).rejects.toMatchObject({
        code: 'LAST_ADMIN',
      })
      expect(await roleIn(cp.db, org.id, owner.id)).toBe('admin')

      await addMember(cp.db, { orgId: org.id, userId: other.id, role: 'read-only' })
      await expect(
        addMember(cp.db, { orgId: org.id, userId: other.id, role: 'member' }),
      ).rejects.toMatchObject({ code: 'ALREADY_MEMBER' })
      await setRole(cp.db, org.id, other.id, 'admin')
      await setRole(cp.db, org.id, owner.id, 'member')
      await removeMember(cp.db, org.id, owner.id)
      expect((await listMembers(cp.db, org.id)).map((m) => [m.userId, m.role])).toEqual([
        [other.id, 'admin'],
      ])
      await expect(setRole(cp.db, org.id, owner.id, 'admin')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      })
    })

    it('refuses a member who is not a user, or an organisation that does not exist', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      await expect(
        addMember(cp.db, { orgId: org.id, userId: newId(), role: 'member' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' })
      await expect(
        addMember(cp.db, { orgId: newId(), userId: owner.id, role: 'member' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('refuses a role the model does not have, in the database itself', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      await expect(
        sql`update memberships set role = 'owner' where org_id = ${org.id}`.execute(cp.db),
      ).rejects.toThrow()
      expect(await roleIn(cp.db, org.id, owner.id)).toBe('admin')
    })
  })

  describe('deleting an organisation', () => {
    it('is refused while it has projects, and changes nothing', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      const project = await createProject(cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
      const before = await rowsOfOrg(org.id)
      await expect(deleteOrg(cp.db, org.id)).rejects.toMatchObject({ code: 'ORG_NOT_EMPTY' })
      expect(await findOrg(cp.db, org.id)).toEqual(org)
      expect(await findProject(cp.db, org.id, project.id)).toEqual(project)
      expect(await rowsOfOrg(org.id)).toBe(before)
    })

    it('takes its memberships and keys with it once its projects are gone, leaving no orphan', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      const project = await createProject(cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
      await createApiKey(cp.db, {
        prefix: `dbs_${unique()}`,
        keyHash: 'h',
        name: 'ci',
        scopes: ['snapshots:read'],
        orgId: org.id,
        createdBy: owner.id,
      })
      await deleteProject(cp.db, org.id, project.id)
      await deleteOrg(cp.db, org.id)
      expect(await findOrg(cp.db, org.id)).toBeUndefined()
      expect(await rowsOfOrg(org.id)).toBe(0)
      expect(await findUserById(cp.db, owner.id)).toBeDefined()
      await expect(deleteOrg(cp.db, org.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })
  })

  describe('projects', () => {
    it('are found only through their own organisation', async () => {
      const owner = await user()
      const mine = await createOrg(cp.db, {
        name: 'Mine',
        slug: `m-${unique()}`,
        ownerId: owner.id,
      })
      const theirs = await createOrg(cp.db, {
        name: 'Theirs',
        slug: `t-${unique()}`,
        ownerId: owner.id,
      })
      const project = await createProject(cp.db, { orgId: mine.id, name: 'Shop', slug: 'shop' })
      // The same slug in another organisation is another project.
      await createProject(cp.db, { orgId: theirs.id, name: 'Shop', slug: 'shop' })
      await expect(
        createProject(cp.db, { orgId: mine.id, name: 'Shop again', slug: 'shop' }),
      ).rejects.toMatchObject({ code: 'SLUG_TAKEN' })
      expect(await findProject(cp.db, theirs.id, project.id)).toBeUndefined()
      await expect(deleteProject(cp.db, theirs.id, project.id)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      })
      expect(await listProjects(cp.db, mine.id)).toEqual([project])
      await expect(
        createProject(cp.db, { orgId: newId(), name: 'X', slug: 'x' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('take their connections with them', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      const project = await createProject(cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
      const now = new Date().toISOString()
      await cp.db
        .insertInto('connections')
        .values({
          id: newId(),
          projectId: project.id,
          name: 'primary',
          engine: 'postgres',
          redactedUrl: 'postgres://backup:***@db.internal:5432/shop',
          credentialCiphertext: 'Y2lwaGVy',
          credentialKeyId: 'k1',
          credentialRef: null,
          createdAt: now,
          updatedAt: now,
        })
        .execute()
      await deleteProject(cp.db, org.id, project.id)
      const left = await cp.db
        .selectFrom('connections')
        .select('id')
        .where('projectId', '=', project.id)
        .execute()
      expect(left).toEqual([])
    })

    it('hold a connection credential one way only, as the database checks', async () => {
      const owner = await user()
      const org = await createOrg(cp.db, { name: 'Org', slug: `o-${unique()}`, ownerId: owner.id })
      const project = await createProject(cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
      const now = new Date().toISOString()
      const connection = (credential: {
        credentialCiphertext: string | null
        credentialKeyId: string | null
        credentialRef: string | null
      }) =>
        cp.db
          .insertInto('connections')
          .values({
            id: newId(),
            projectId: project.id,
            name: `c-${unique()}`,
            engine: 'mysql',
            redactedUrl: 'mysql://backup@db/shop',
            ...credential,
            createdAt: now,
            updatedAt: now,
          })
          .execute()
      // A ciphertext without its key id, and a stored credential with a reference too.
      await expect(
        connection({ credentialCiphertext: 'x', credentialKeyId: null, credentialRef: null }),
      ).rejects.toThrow()
      await expect(
        connection({ credentialCiphertext: 'x', credentialKeyId: 'k1', credentialRef: 'env:PW' }),
      ).rejects.toThrow()
      await connection({
        credentialCiphertext: null,
        credentialKeyId: null,
        credentialRef: 'env:PW',
      })
      await connection({ credentialCiphertext: null, credentialKeyId: null, credentialRef: null })
    })
  })
})
