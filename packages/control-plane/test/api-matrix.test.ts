// The route x role matrix: every route of the OpenAPI document, called with no credentials, by a
// user of another organisation, and by each role, answers as the permission table says — 401
// without credentials, 404 for another tenant (never a hint it exists), 403 for a role without
// the action, 2xx otherwise. API keys of several scopes, creators and reaches call every route
// too: refused (401) where keys are not taken, 404 for another organisation's key, 403 without
// the scope or when the creator's role or the key's project does not reach. A route missing from
// the table below fails the test.

import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCOPES, type Scope } from '../src/authz/permissions.js'
import { createAgent, registerAgent } from '../src/data/agents.js'
import { createApiKey } from '../src/data/api-keys.js'
import { recordExportLink } from '../src/data/exports.js'
import { JobQueue } from '../src/data/jobs.js'
import { createConnection } from '../src/data/connections.js'
import { requestDiff } from '../src/data/diffs.js'
import { recordSnapshot } from '../src/data/snapshots.js'
import { addMember, createOrg } from '../src/data/orgs.js'
import { createProject, deleteProject } from '../src/data/projects.js'
import { createSchedule } from '../src/data/schedules.js'
import { createSession } from '../src/data/sessions.js'
import { createUser } from '../src/data/users.js'
import type { Role } from '../src/db/schema.js'
import { newApiKeySecret } from '../src/identity/api-key-secret.js'
import { hashRefreshToken, newRefreshToken, signAccessToken } from '../src/identity/tokens.js'
import { DIALECTS } from './dialects.js'
import { harness, uniqueEmail, type Harness } from './api-harness.js'

/**
 * Who may call a route: anyone (not authenticated), any signed-in user, a role and up, or an
 * agent with its credential (the agent API, which takes nothing else).
 */
type Access = 'public' | 'user' | 'agent' | Role
/**
 * Whether an API key may call it: with this scope; `null`, a route that takes keys but that no
 * scope grants (403); absent, keys are refused (401: people only).
 */
type KeyAccess = Scope | null

const ROUTES: Record<string, Access | [Access, KeyAccess]> = {
  'GET /version': 'public',
  'POST /auth/register': 'public',
  'POST /auth/login': 'public',
  'POST /auth/setup': 'public',
  'POST /auth/refresh': 'public',
  'POST /auth/logout': 'user',
  'GET /auth/me': 'user',
  'GET /sessions': 'user',
  'DELETE /sessions': 'user',
  'DELETE /sessions/{id}': 'user',
  'POST /orgs': 'user',
  'GET /orgs': 'user',
  'GET /orgs/{orgId}': ['read-only', 'org:read'],
  'PATCH /orgs/{orgId}': ['admin', null],
  'DELETE /orgs/{orgId}': ['admin', null],
  'GET /orgs/{orgId}/members': ['read-only', null],
  'POST /orgs/{orgId}/members': ['admin', null],
  'PATCH /orgs/{orgId}/members/{userId}': ['admin', null],
  'DELETE /orgs/{orgId}/members/{userId}': ['admin', null],
  'GET /orgs/{orgId}/projects': ['read-only', 'projects:read'],
  'POST /orgs/{orgId}/projects': ['member', 'projects:write'],
  'GET /orgs/{orgId}/projects/{projectId}': ['read-only', 'projects:read'],
  'PATCH /orgs/{orgId}/projects/{projectId}': ['member', 'projects:write'],
  'DELETE /orgs/{orgId}/projects/{projectId}': ['member', 'projects:write'],
  'GET /orgs/{orgId}/projects/{projectId}/connections': ['read-only', 'connections:read'],
  'POST /orgs/{orgId}/projects/{projectId}/connections': ['member', 'connections:write'],
  'GET /orgs/{orgId}/projects/{projectId}/connections/{connectionId}': [
    'read-only',
    'connections:read',
  ],
  'PATCH /orgs/{orgId}/projects/{projectId}/connections/{connectionId}': [
    'member',
    'connections:write',
  ],
  'DELETE /orgs/{orgId}/projects/{projectId}/connections/{connectionId}': [
    'member',
    'connections:write',
  ],
  'GET /orgs/{orgId}/keys': 'member',
  'POST /orgs/{orgId}/keys': 'member',
  'GET /orgs/{orgId}/keys/{keyId}': 'member',
  'POST /orgs/{orgId}/keys/{keyId}/rotate': 'member',
  'DELETE /orgs/{orgId}/keys/{keyId}': 'member',
  'GET /orgs/{orgId}/audit': 'admin',
  'GET /orgs/{orgId}/projects/{projectId}/agents': 'read-only',
  'POST /orgs/{orgId}/projects/{projectId}/agents': 'admin',
  'DELETE /orgs/{orgId}/projects/{projectId}/agents/{agentId}': 'admin',
  'GET /orgs/{orgId}/projects/{projectId}/jobs': ['read-only', 'jobs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/jobs/{jobId}': ['read-only', 'jobs:read'],
  'POST /orgs/{orgId}/projects/{projectId}/jobs/{jobId}/cancel': ['member', 'jobs:write'],
  'POST /orgs/{orgId}/projects/{projectId}/jobs/redrive': ['admin', null],
  'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/snapshots': [
    'member',
    'snapshots:write',
  ],
  'GET /orgs/{orgId}/projects/{projectId}/snapshots': ['read-only', 'snapshots:read'],
  'POST /orgs/{orgId}/projects/{projectId}/snapshots/{snapshotId}/exports': [
    'member',
    'snapshots:export',
  ],
  'POST /orgs/{orgId}/projects/{projectId}/snapshots/{snapshotId}/restores': ['admin', null],
  'POST /orgs/{orgId}/projects/{projectId}/verify': ['member', 'snapshots:write'],
  'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/retention': [
    'member',
    'snapshots:forget',
  ],
  'GET /orgs/{orgId}/projects/{projectId}/jobs/{jobId}/download': ['member', 'snapshots:export'],
  'GET /downloads/{token}': 'public',
  'POST /agent/jobs/{jobId}/export-link': 'agent',
  'PUT /agent/jobs/{jobId}/export-file': 'agent',
  'POST /orgs/{orgId}/projects/{projectId}/diffs': ['member', 'diffs:write'],
  'GET /orgs/{orgId}/projects/{projectId}/diffs': ['read-only', 'diffs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/diffs/{diffId}': ['read-only', 'diffs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/diffs/{diffId}/changes': ['read-only', 'diffs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/diffs/{diffId}/counts': ['read-only', 'diffs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/diffs/{diffId}/export': ['read-only', 'diffs:read'],
  'GET /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules': [
    'read-only',
    'connections:read',
  ],
  'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules': [
    'member',
    'connections:write',
  ],
  'PATCH /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules/{scheduleId}': [
    'member',
    'connections:write',
  ],
  'DELETE /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules/{scheduleId}': [
    'member',
    'connections:write',
  ],
  'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/tests': [
    'member',
    'connections:write',
  ],
  'POST /agent/register': 'public',
  'POST /agent/lease': 'agent',
  'POST /agent/jobs/{jobId}/heartbeat': 'agent',
  'POST /agent/jobs/{jobId}/result': 'agent',
  'POST /agent/jobs/{jobId}/failure': 'agent',
  'POST /agent/jobs/{jobId}/diff-changes': 'agent',
  'GET /agent/schedules': 'agent',
  'POST /agent/schedules/{scheduleId}/runs': 'agent',
  'POST /agent/jobs/local': 'agent',
  'GET /agent/queue': 'agent',
  'GET /admin/queue': ['admin', 'queue:read'],
}

/**
 * Routes outside any organisation that answer each caller about what it administers: the
 * outsider administers its own organisation, so it (and its key) is answered, not refused.
 */
const EXCEPTIONS: Record<string, Partial<Record<Caller, number>>> = {
  'GET /admin/queue': { outsider: 200, 'key:other-org': 200 },
}

/** The API keys that call every route: who made them, with which scopes, reaching what. */
const KEY_CALLERS = {
  'key:admin-all': { creator: 'admin', scopes: SCOPES, project: false },
  'key:admin-read': { creator: 'admin', scopes: ['org:read', 'projects:read'], project: false },
  'key:member-all': { creator: 'member', scopes: SCOPES, project: false },
  'key:project': { creator: 'admin', scopes: SCOPES, project: true },
  'key:other-org': { creator: 'outsider', scopes: SCOPES, project: false },
} as const satisfies Record<
  string,
  { creator: 'admin' | 'member' | 'outsider'; scopes: readonly Scope[]; project: boolean }
>
type KeyCaller = keyof typeof KEY_CALLERS

const RANK: Record<Role, number> = { 'read-only': 0, member: 1, admin: 2 }
type Caller = 'anonymous' | 'outsider' | 'agent' | Role | KeyCaller
const CALLERS: Caller[] = [
  'anonymous',
  'outsider',
  'agent',
  'read-only',
  'member',
  'admin',
  ...(Object.keys(KEY_CALLERS) as KeyCaller[]),
]
const isKeyCaller = (caller: Caller): caller is KeyCaller => caller.startsWith('key:')

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
    case 'POST /orgs/{orgId}/projects/{projectId}/connections':
      return { name: `db-${tag()}`, url: 'postgres://app:pw@db.internal:5432/shop' }
    case 'PATCH /orgs/{orgId}/projects/{projectId}/connections/{connectionId}':
      return { engine: 'mysql', ref: 'env:SHOP_URL' }
    case 'POST /orgs/{orgId}/keys':
      return { name: 'ci', scopes: ['projects:read'] }
    case 'POST /orgs/{orgId}/keys/{keyId}/rotate':
      return {}
    case 'POST /orgs/{orgId}/projects/{projectId}/agents':
      return { name: `agent-${tag()}` }
    case 'POST /orgs/{orgId}/projects/{projectId}/jobs/redrive':
      return { ids: [world.jobId] }
    case 'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/snapshots':
      return { tags: { reason: 'nightly' } }
    case 'POST /orgs/{orgId}/projects/{projectId}/diffs':
      return { from: world.snapshotId, to: world.snapshotId }
    case 'POST /agent/jobs/{jobId}/diff-changes':
      return { leaseId: world.diffLeaseId, page: 0, changes: [], tables: [] }
    case 'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules':
      return { cron: '0 3 * * *', timezone: 'Europe/Paris', retention: { keepLast: 7 } }
    case 'PATCH /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules/{scheduleId}':
      return { enabled: false }
    case 'POST /agent/schedules/{scheduleId}/runs':
      return { scheduledAt: '2026-12-03T03:00:00.000Z' }
    case 'POST /agent/jobs/local':
      return {
        clientJobId: randomUUID(),
        kind: 'retention',
        connectionId: world.connectionId,
        spec: { kind: 'retention', connectionId: world.connectionId },
        startedAt: '2026-12-03T03:00:00.000Z',
        finishedAt: '2026-12-03T03:00:01.000Z',
        result: { dryRun: false, snapshots: [], prune: null },
      }
    case 'POST /agent/lease':
      return { waitSeconds: 0 }
    case 'POST /agent/jobs/{jobId}/heartbeat':
      return { leaseId: world.leaseId, progress: { phase: 'reading' } }
    case 'POST /agent/jobs/{jobId}/result':
      return { leaseId: world.leaseId, result: { snapshotId: 'abc' } }
    case 'POST /agent/jobs/{jobId}/failure':
      return { leaseId: world.leaseId, error: { code: 'X', message: 'x', retryable: true } }
    case 'POST /orgs/{orgId}/projects/{projectId}/snapshots/{snapshotId}/exports':
      return { format: 'ndjson' }
    case 'POST /orgs/{orgId}/projects/{projectId}/snapshots/{snapshotId}/restores':
      return { connectionId: world.connectionId, tables: ['public.orders'] }
    case 'POST /orgs/{orgId}/projects/{projectId}/verify':
      return { snapshots: [world.snapshotId], readDataSubset: '5%' }
    case 'POST /orgs/{orgId}/projects/{projectId}/connections/{connectionId}/retention':
      return { policy: { keepLast: 3 } }
    case 'POST /agent/jobs/{jobId}/export-link':
      return {
        leaseId: world.leaseId,
        url: 'https://s3.example.com/backups/exports/x.ndjson?X-Amz-Signature=abc',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        bytes: 10,
      }
    case 'PUT /agent/jobs/{jobId}/export-file':
      return '{"id":1}\n'
    default:
      return undefined
  }
}

interface World {
  orgId: string
  projectId: string
  /** A connection of the project: the target of connection routes. */
  connectionId: string
  /** A read-only member of the org: the target of member routes. */
  targetUserId: string
  /** An account that is no member yet: the one POST members adds. */
  newcomerEmail: string
  /** A key the member made: the target of key routes (a member manages its own keys). */
  targetKeyId: string
  /** The project's registered agent (its credential is the `agent` caller's token). */
  agentId: string
  /** A schedule of the connection: the target of schedule routes. */
  scheduleId: string
  /** An export job leased to that agent, and its lease: the target of job routes. */
  jobId: string
  leaseId: string
  /** A succeeded export job: the target of its download route. */
  exportJobId: string
  /** A snapshot of the catalogue, a diff of it, and the diff's job, leased to the agent too. */
  snapshotId: string
  diffId: string
  diffJobId: string
  diffLeaseId: string
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
    const other = await createOrg(h.cp.db, {
      name: 'Other',
      slug: `other-${tag()}`,
      ownerId: outsider!.id,
    })
    const org = await createOrg(h.cp.db, {
      name: 'Acme',
      slug: `acme-${tag()}`,
      ownerId: admin!.id,
    })
    await addMember(h.cp.db, { orgId: org.id, userId: member!.id, role: 'member' })
    await addMember(h.cp.db, { orgId: org.id, userId: readOnly!.id, role: 'read-only' })
    await addMember(h.cp.db, { orgId: org.id, userId: target!.id, role: 'read-only' })
    const project = await createProject(h.cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
    const connection = await createConnection(
      h.cp.db,
      h.secrets,
      { orgId: org.id, projectId: project.id },
      { name: 'shop', credential: { url: 'postgres://app:pw@db.internal/shop' } },
    )
    const creators = { admin: admin!, member: member!, outsider: outsider! }
    /** Makes a key through the data layer (the API would refuse the member's wider scopes). */
    const key = async (
      name: string,
      k: { creator: keyof typeof creators; scopes: readonly Scope[]; project: boolean },
    ) => {
      const secret = newApiKeySecret()
      const made = await createApiKey(h.cp.db, {
        prefix: secret.prefix,
        keyHash: secret.hash,
        name,
        scopes: k.scopes,
        orgId: k.creator === 'outsider' ? other.id : org.id,
        ...(k.project ? { projectId: project.id } : {}),
        createdBy: creators[k.creator].id,
      })
      return { token: secret.key, sessionId: 'none', id: made.id }
    }
    const keys = Object.fromEntries(
      await Promise.all(
        Object.entries(KEY_CALLERS).map(async ([name, k]) => [name, await key(name, k)] as const),
      ),
    ) as unknown as Record<KeyCaller, { token: string; sessionId: string }>
    const targetKey = await key('target', {
      creator: 'member',
      scopes: ['org:read'],
      project: false,
    })
    // The project's agent exported a snapshot and holds one export job; another waits for the
    // next lease.
    const made = await createAgent(h.cp.db, {
      projectId: project.id,
      name: `agent-${tag()}`,
      createdBy: admin!.id,
    })
    const { credential } = await registerAgent(h.cp.db, made.registrationToken, {
      version: '0.1.0',
      hostname: 'backup-1',
    })
    const snapshotId = randomBytes(32).toString('hex')
    const schedule = await createSchedule(
      h.cp.db,
      { orgId: org.id, projectId: project.id },
      connection.id,
      { cron: '0 3 * * *' },
      `user:${admin!.id}`,
    )
    const queue = new JobQueue(h.cp)
    const queued = {
      projectId: project.id,
      kind: 'export' as const,
      spec: { kind: 'export', snapshot: snapshotId, format: 'ndjson' },
      createdBy: 'test',
    }
    await queue.enqueue(queued)
    const exported = (await queue.lease(made.agent.id, project.id))!
    await recordSnapshot(h.cp.db, exported, {
      id: snapshotId,
      name: 'shop',
      repository: 's3://backups/shop',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: 5,
      totals: { tables: 1, rows: 1, bytes: 1, chunks: 1, newBytes: 1, reusedChunks: 0 },
    })
    await recordExportLink(h.cp.db, exported, {
      url: 'https://s3.example.com/backups/exports/x.ndjson?X-Amz-Signature=abc',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      bytes: 10,
    })
    await queue.succeed(exported.id, exported.leaseId!, { rows: 1 })
    await queue.enqueue(queued)
    const leased = await queue.lease(made.agent.id, project.id)
    const snapshot = await recordSnapshot(h.cp.db, leased!, {
      id: randomBytes(16).toString('hex'),
      name: 'shop',
      repository: '/backups/shop',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: 1,
      totals: { tables: 1, rows: 1, bytes: 1, chunks: 1, newBytes: 1, reusedChunks: 0 },
    })
    const { diff } = await requestDiff(h.cp.db, queue, {
      projectId: project.id,
      from: snapshot.id,
      to: snapshot.id,
      createdBy: 'test',
    })
    const diffJob = await queue.lease(made.agent.id, project.id)
    await queue.enqueue(queued)
    return {
      orgId: org.id,
      projectId: project.id,
      connectionId: connection.id,
      scheduleId: schedule.id,
      agentId: made.agent.id,
      jobId: leased!.id,
      leaseId: leased!.leaseId!,
      exportJobId: exported.id,
      snapshotId,
      diffId: diff.id,
      diffJobId: diffJob!.id,
      diffLeaseId: diffJob!.leaseId!,
      targetUserId: target!.id,
      newcomerEmail: newcomer!.email,
      targetKeyId: targetKey.id,
      tokens: {
        ...keys,
        agent: { token: credential, sessionId: 'none' },
        admin: await signIn(admin!.id),
        member: await signIn(member!.id),
        'read-only': await signIn(readOnly!.id),
        outsider: await signIn(outsider!.id),
      },
    }
  }

  const accessOf = (route: string): [Access, KeyAccess | undefined] => {
    const entry = ROUTES[route]!
    return typeof entry === 'string' ? [entry, undefined] : entry
  }

  it('documents the API key scheme on exactly the routes that take keys', () => {
    const takingKeys = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) =>
          ((op as { security?: Record<string, unknown>[] }).security ?? []).some(
            (s) => 'apiKey' in s,
          ),
        )
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    )
    expect(takingKeys.sort()).toEqual(
      Object.keys(ROUTES)
        .filter((route) => accessOf(route)[1] !== undefined)
        .sort(),
    )
  })

  it('lists every route of the OpenAPI document, and no other', () => {
    const documented = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(documented.sort()).toEqual(Object.keys(ROUTES).sort())
  })

  // Public routes (version, sign-up, login, refresh) take no credentials; api-auth.test.ts and
  // app.test.ts cover them.
  const cases = Object.keys(ROUTES).flatMap((route) =>
    accessOf(route)[0] === 'public'
      ? []
      : CALLERS.map((caller) => [route, accessOf(route)[0], caller] as const),
  )

  /** The status an API key gets, in the order the checks are made. */
  function keyExpectation(route: string, caller: KeyCaller, success: number): number {
    const [access, keyAccess] = accessOf(route)
    const k = KEY_CALLERS[caller]
    if (keyAccess === undefined) return 401
    // The org is emptied first (below): deleting the project took its keys with it.
    if (route === 'DELETE /orgs/{orgId}' && k.project) return 401
    if (k.creator === 'outsider') return 404
    if (keyAccess === null || !(k.scopes as readonly Scope[]).includes(keyAccess)) return 403
    if (k.project && !route.includes('{projectId}')) return 403
    return access !== 'public' && access !== 'user' && RANK[k.creator] < RANK[access as Role]
      ? 403
      : success
  }

  it.each(cases)('%s (%s) called by %s', async (route, access, caller) => {
    const [method, path] = route.split(' ') as [string, string]
    // The world's diff is still running: a caller allowed to export it is told it is not ready.
    const success = route.endsWith('/export')
      ? 409
      : Number(
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
        .replace('{connectionId}', w.connectionId)
        .replace('{userId}', w.targetUserId)
        .replace('{keyId}', w.targetKeyId)
        .replace('{agentId}', w.agentId)
        .replace(
          '{jobId}',
          route.endsWith('/download')
            ? w.exportJobId
            : route.endsWith('/diff-changes')
              ? w.diffJobId
              : w.jobId,
        )
        .replace('{snapshotId}', w.snapshotId)
        .replace('{diffId}', w.diffId)
        .replace('{scheduleId}', w.scheduleId)
        .replace('{id}', credentials?.sessionId ?? 'none') +
      (route.endsWith('/export') ? '?format=ndjson' : '')
    const body = bodyFor(route, w)
    const res = await h.call(method, url, {
      ...(credentials === undefined ? {} : { token: credentials.token }),
      ...(body === undefined ? {} : { body }),
      ...(route === 'PUT /agent/jobs/{jobId}/export-file'
        ? { headers: { 'dbsnap-lease-id': w.leaseId } }
        : {}),
    })
    const expected =
      EXCEPTIONS[route]?.[caller] ??
      (isKeyCaller(caller)
        ? keyExpectation(route, caller, success)
        : access === 'agent' || caller === 'agent'
          ? access === 'agent' && caller === 'agent'
            ? success
            : 401
          : caller === 'anonymous'
            ? 401
            : access === 'user'
              ? success
              : caller === 'outsider'
                ? 404
                : RANK[caller] >= RANK[access as Role]
                  ? success
                  : 403)
    expect(res.status, await res.clone().text()).toBe(expected)
  })
})
