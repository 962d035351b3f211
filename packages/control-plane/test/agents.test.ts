// Agents on both dialects: a registration token works once and only while fresh, the credential
// it gives finds the agent until it is revoked, and revoking frees the jobs the agent held.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAgent,
  findAgentByCredential,
  listAgents,
  registerAgent,
  REGISTRATION_TOKEN_TTL_MS,
  revokeAgent,
  touchAgent,
} from '../src/data/agents.js'
import { JobQueue } from '../src/data/jobs.js'
import { createOrg } from '../src/data/orgs.js'
import { createProject } from '../src/data/projects.js'
import { createUser } from '../src/data/users.js'
import { newId } from '../src/db/ids.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const FACTS = { version: '0.1.0', hostname: 'backup-1' }

describe.each(DIALECTS)('agents on %s', (dialect) => {
  let cp: TestControlPlaneDb
  let userId: string
  let projectId: string
  let otherProjectId: string

  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
    userId = (await createUser(cp.db, { email: `${newId()}@example.com`, passwordHash: null })).id
    const org = await createOrg(cp.db, { name: 'A', slug: `a-${newId()}`, ownerId: userId })
    projectId = (await createProject(cp.db, { orgId: org.id, name: 'p', slug: 'p' })).id
    otherProjectId = (await createProject(cp.db, { orgId: org.id, name: 'q', slug: 'q' })).id
  })
  afterAll(async () => {
    await cp.drop()
  })

  it('trades a registration token for a credential, once', async () => {
    const { agent, registrationToken } = await createAgent(cp.db, {
      projectId,
      name: `a-${newId()}`,
      createdBy: userId,
    })
    expect(registrationToken).toMatch(/^dbsr_[A-Za-z0-9_-]{43}$/)
    expect(JSON.stringify(agent)).not.toContain(registrationToken)

    const { agent: registered, credential } = await registerAgent(cp.db, registrationToken, FACTS)
    expect(credential).toMatch(/^dbsa_[A-Za-z0-9_-]{43}$/)
    expect(registered).toMatchObject({ id: agent.id, ...FACTS, registrationTokenHash: null })
    expect((await findAgentByCredential(cp.db, credential))?.id).toBe(agent.id)
    expect(await findAgentByCredential(cp.db, `${credential}x`)).toBeUndefined()

    await expect(registerAgent(cp.db, registrationToken, FACTS)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    })
  })

  it('refuses an expired registration token and a second agent of the same name', async () => {
    const name = `a-${newId()}`
    const made = new Date(Date.now() - REGISTRATION_TOKEN_TTL_MS - 1)
    const { registrationToken } = await createAgent(cp.db, {
      projectId,
      name,
      createdBy: userId,
      now: made,
    })
    await expect(registerAgent(cp.db, registrationToken, FACTS)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    })
    await expect(createAgent(cp.db, { projectId, name, createdBy: userId })).rejects.toMatchObject({
      code: 'NAME_TAKEN',
    })
    // The same name in another project is another agent.
    await createAgent(cp.db, { projectId: otherProjectId, name, createdBy: userId })
  })

  it('refuses a revoked agent, and gives the jobs it held to the next lease', async () => {
    const { agent, registrationToken } = await createAgent(cp.db, {
      projectId,
      name: `a-${newId()}`,
      createdBy: userId,
    })
    const { credential } = await registerAgent(cp.db, registrationToken, FACTS)
    const queue = new JobQueue(cp)
    const job = await queue.enqueue({
      projectId,
      kind: 'verify',
      spec: { kind: 'verify' },
      createdBy: 'user:test',
    })
    expect((await queue.lease(agent.id, projectId))?.id).toBe(job.id)

    await revokeAgent(cp.db, projectId, agent.id)
    expect(await findAgentByCredential(cp.db, credential)).toBeUndefined()
    const { agent: other } = await createAgent(cp.db, {
      projectId,
      name: `b-${newId()}`,
      createdBy: userId,
    })
    expect(await queue.lease(other.id, projectId)).toMatchObject({ id: job.id, attempts: 2 })
    await expect(revokeAgent(cp.db, otherProjectId, agent.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })

  it('lists a project’s agents and records when each was last heard from', async () => {
    const agents = await listAgents(cp.db, otherProjectId)
    expect(agents.map((a) => a.projectId)).toEqual(agents.map(() => otherProjectId))
    const { agent } = await createAgent(cp.db, {
      projectId: otherProjectId,
      name: `c-${newId()}`,
      createdBy: userId,
    })
    const now = new Date()
    await touchAgent(cp.db, agent, now)
    const seen = (await listAgents(cp.db, otherProjectId)).find((a) => a.id === agent.id)!
    expect(seen.lastSeenAt).toBe(now.toISOString())
    // Within the interval, no write.
    await touchAgent(cp.db, seen, new Date(now.getTime() + 1_000))
    expect(
      (await listAgents(cp.db, otherProjectId)).find((a) => a.id === agent.id)!.lastSeenAt,
    ).toBe(now.toISOString())
  })
})
