// The route x role matrix: every route of the OpenAPI document, called with no credentials, by a
// user of another organisation, and by each role, answers as the permission table says — 401
// without credentials, 404 for another tenant (never a hint it exists), 403 for a role without
// the action, 2xx otherwise. A route missing from the table below fails the test.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember, createOrg } from '../src/data/orgs.js'
import { createProject, deleteProject } from '../src/data/projects.js'
import { createSession } from '../src/data/sessions.js'
import { createUser } from '../src/data/users.js'
import type { Role } from '../src/db/schema.js'
import { hashRefreshToken, newRefreshToken, signAccessToken } from '../src/identity/tokens.js'
import { DIALECTS } from './dialects.js'
import { harness, uniqueEmail, type Harness } from './api-harness.js'

/** Who may call a route: anyone (not authenticated), any signed-in user, or a role and up. */
type Access = 'public' | 'user' | Role

const ROUTES: Record<string, Access> = {
  'GET /version': 'public',
  'POST /auth/register': 'public',
  'POST /auth/login': 'public',
  'POST /auth/refresh': 'public',
  'POST /auth/logout': 'user',
  'GET /auth/me': 'user',
  'GET /sessions': 'user',
  'DELETE /sessions': 'user',
  'DELETE /sessions/{id}': 'user',
  'POST /orgs': 'user',
  'GET /orgs': 'user',
  'GET /orgs/{orgId}': 'read-only',
  'PATCH /orgs/{orgId}': 'admin',
  'DELETE /orgs/{orgId}': 'admin',
  'GET /orgs/{orgId}/members': 'read-only',
  'POST /orgs/{orgId}/members': 'admin',
  'PATCH /orgs/{orgId}/members/{userId}': 'admin',
  'DELETE /orgs/{orgId}/members/{userId}': 'admin',
  'GET /orgs/{orgId}/projects': 'read-only',
  'POST /orgs/{orgId}/projects': 'member',
  'GET /orgs/{orgId}/projects/{projectId}': 'read-only',
  'PATCH /orgs/{orgId}/projects/{projectId}': 'member',
  'DELETE /orgs/{orgId}/projects/{projectId}': 'member',
}

const RANK: Record<Role, number> = { 'read-only': 0, member: 1, admin: 2 }
type Caller = 'anonymous' | 'outsider' | Role
const CALLERS: Caller[] = ['anonymous', 'outsider', 'read-only', 'member', 'admin']

const tag = (): string => randomBytes(4).toString('hex')

/** A valid body for each route that takes one (fresh slugs and accounts, so each call can succeed). */
function bodyFor(route: string, world: World): unknown {
  switch (route) {
    case 'POST /orgs':
      return { name: 'Org', slug: `org-${tag()}` }
    case 'PATCH /orgs/{orgId}':
    case 'PATCH /orgs/{orgId}/projects/{projectId}':
      return { name: 'Renamed' }
    case 'POST /orgs/{orgId}/members':
      return { email: world.newcomerEmail, role: 'member' }
    case 'PATCH /orgs/{orgId}/members/{userId}':
      return { role: 'member' }
    case 'POST /orgs/{orgId}/projects':
      return { name: 'Project', slug: `p-${tag()}` }
    default:
      return undefined
  }
}

interface World {
  orgId: string
  projectId: string
  /** A read-only member of the org: the target of member routes. */
  targetUserId: string
  /** An account that is no member yet: the one POST members adds. */
  newcomerEmail: string
  tokens: Record<Exclude<Caller, 'anonymous'>, { token: string; sessionId: string }>
}

describe.each(DIALECTS)('route x role matrix on %s', (dialect) => {
  let h: Harness
  let paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
  beforeAll(async () => {
    h = await harness(dialect)
    paths = (
      (await (await h.call('GET', '/api/v1/openapi.json')).json()) as { paths: typeof paths }
    ).paths
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const account = () => createUser(h.cp.db, { email: uniqueEmail(), passwordHash: null })
  /** Signs a user in through the data layer: no password hashing, so a world is cheap. */
  const signIn = async (userId: string) => {
    const session = await createSession(h.cp.db, {
      userId,
      refreshTokenHash: hashRefreshToken(newRefreshToken()),
      ip: null,
      userAgent: null,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
    const token = await signAccessToken(
      { userId, sessionId: session.id },
      { key: h.signingKey, ttlSeconds: 300 },
    )
    return { token, sessionId: session.id }
  }

  /** An org (admin, member, read-only, a target member), its project, and an outsider with an org of its own. */
  async function world(): Promise<World> {
    const [admin, member, readOnly, target, outsider, newcomer] = await Promise.all(
      Array.from({ length: 6 }, account),
    )
    const org = await createOrg(h.cp.db, {
      name: 'Acme',
      slug: `acme-${tag()}`,
      ownerId: admin!.id,
    })
    await createOrg(h.cp.db, { name: 'Other', slug: `other-${tag()}`, ownerId: outsider!.id })
    await addMember(h.cp.db, { orgId: org.id, userId: member!.id, role: 'member' })
    await addMember(h.cp.db, { orgId: org.id, userId: readOnly!.id, role: 'read-only' })
    await addMember(h.cp.db, { orgId: org.id, userId: target!.id, role: 'read-only' })
    const project = await createProject(h.cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
    return {
      orgId: org.id,
      projectId: project.id,
      targetUserId: target!.id,
      newcomerEmail: newcomer!.email,
      tokens: {
        admin: await signIn(admin!.id),
        member: await signIn(member!.id),
        'read-only': await signIn(readOnly!.id),
        outsider: await signIn(outsider!.id),
      },
    }
  }

  it('lists every route of the OpenAPI document, and no other', () => {
    const documented = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(documented.sort()).toEqual(Object.keys(ROUTES).sort())
  })

  // Public routes (version, sign-up, login, refresh) take no credentials; api-auth.test.ts and
  // app.test.ts cover them.
  const cases = Object.entries(ROUTES).flatMap(([route, access]) =>
    access === 'public' ? [] : CALLERS.map((caller) => [route, access, caller] as const),
  )

  it.each(cases)('%s (%s) called by %s', async (route, access, caller) => {
    const [method, path] = route.split(' ') as [string, string]
    const success = Number(
      Object.keys(paths[path]![method.toLowerCase()]!.responses).find((s) => s.startsWith('2')),
    )
    const w = await world()
    // An organisation is deleted only once empty (ORG_NOT_EMPTY, tested in api-tenancy).
    if (route === 'DELETE /orgs/{orgId}') await deleteProject(h.cp.db, w.orgId, w.projectId)
    const credentials = caller === 'anonymous' ? undefined : w.tokens[caller]
    const url =
      '/api/v1' +
      path
        .replace('{orgId}', w.orgId)
        .replace('{projectId}', w.projectId)
        .replace('{userId}', w.targetUserId)
        .replace('{id}', credentials?.sessionId ?? 'none')
    const body = bodyFor(route, w)
    const res = await h.call(method, url, {
      ...(credentials === undefined ? {} : { token: credentials.token }),
      ...(body === undefined ? {} : { body }),
    })
    const expected =
      caller === 'anonymous'
        ? 401
        : access === 'user'
          ? success
          : caller === 'outsider'
            ? 404
            : RANK[caller] >= RANK[access]
              ? success
              : 403
    expect(res.status, await res.clone().text()).toBe(expected)
  })
})
