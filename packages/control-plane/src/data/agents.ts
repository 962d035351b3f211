// Agents: `dbsnap-agent` processes that run a project's jobs. An admin creates one and gets a
// one-time registration token (`dbsr_…`, short-lived); the agent trades it for its own credential
// (`dbsa_…`), which it keeps. Both are 256 random bits stored only as SHA-256, found by that
// hash. Revoking an agent refuses its credential at once and frees the jobs it held.

import { createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import type { Agent, Database } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

/** How long a registration token works. */
export const REGISTRATION_TOKEN_TTL_MS = 15 * 60 * 1000

/** Recognisable starts, so secret scanners find leaked ones. */
export const REGISTRATION_TOKEN_PREFIX = 'dbsr_'
export const AGENT_CREDENTIAL_PREFIX = 'dbsa_'

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex')
const newSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`

/** True when `token` is shaped like an agent's credential (rather than a user's token or a key). */
export function looksLikeAgentCredential(token: string): boolean {
  return token.startsWith(AGENT_CREDENTIAL_PREFIX)
}

export interface NewAgentInput {
  projectId: string
  name: string
  createdBy: string
  now?: Date
}

/** Creates an agent; `NAME_TAKEN` when the project has one of this name. */
export async function createAgent(
  db: Kysely<Database>,
  input: NewAgentInput,
): Promise<{ agent: Agent; registrationToken: string }> {
  const now = input.now ?? new Date()
  const registrationToken = newSecret(REGISTRATION_TOKEN_PREFIX)
  const agent: Agent = {
    id: newId(now.getTime()),
    projectId: input.projectId,
    name: input.name,
    registrationTokenHash: hashSecret(registrationToken),
    registrationExpiresAt: timestamp(new Date(now.getTime() + REGISTRATION_TOKEN_TTL_MS)),
    credentialHash: null,
    registeredAt: null,
    version: null,
    hostname: null,
    lastSeenAt: null,
    createdBy: input.createdBy,
    createdAt: timestamp(now),
    revokedAt: null,
  }
  await translateConstraints(() => db.insertInto('agents').values(agent).execute(), {
    unique: (cause) =>
      new ControlPlaneError('NAME_TAKEN', 'the project already has an agent of this name', {
        cause,
        details: { name: input.name },
      }),
  })
  return { agent, registrationToken }
}

export interface AgentFacts {
  version: string
  hostname: string
}

/**
 * Trades a registration token for the agent's credential, once. `UNAUTHENTICATED` for a token
 * that is unknown, used, expired or of a revoked agent (one message for all: nothing to probe).
 */
export async function registerAgent(
  db: Kysely<Database>,
  registrationToken: string,
  facts: AgentFacts,
  now: Date = new Date(),
): Promise<{ agent: Agent; credential: string }> {
  const at = timestamp(now)
  const credential = newSecret(AGENT_CREDENTIAL_PREFIX)
  const agent = await db
    .updateTable('agents')
    .set({
      registrationTokenHash: null,
      registrationExpiresAt: null,
      credentialHash: hashSecret(credential),
      registeredAt: at,
      lastSeenAt: at,
      version: facts.version,
      hostname: facts.hostname,
    })
    .where('registrationTokenHash', '=', hashSecret(registrationToken))
    .where('registrationExpiresAt', '>=', at)
    .where('revokedAt', 'is', null)
    .returningAll()
    .executeTakeFirst()
  if (agent === undefined) {
    throw new ControlPlaneError(
      'UNAUTHENTICATED',
      'the registration token is not valid: it is unknown, used, expired or its agent was revoked',
    )
  }
  return { agent, credential }
}

/** The active agent holding `credential`, else undefined. */
export async function findAgentByCredential(
  db: Kysely<Database>,
  credential: string,
): Promise<Agent | undefined> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('credentialHash', '=', hashSecret(credential))
    .where('revokedAt', 'is', null)
    .executeTakeFirst()
}

/** Records that the agent was heard from (at most once per `everyMs`, to spare writes). */
export async function touchAgent(
  db: Kysely<Database>,
  agent: Pick<Agent, 'id' | 'lastSeenAt'>,
  now: Date = new Date(),
  everyMs = 5_000,
): Promise<void> {
  if (agent.lastSeenAt !== null && now.getTime() - Date.parse(agent.lastSeenAt) < everyMs) return
  await db
    .updateTable('agents')
    .set({ lastSeenAt: timestamp(now) })
    .where('id', '=', agent.id)
    .execute()
}

export async function listAgents(db: Kysely<Database>, projectId: string): Promise<Agent[]> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('projectId', '=', projectId)
    .orderBy('createdAt')
    .orderBy('id')
    .execute()
}

export async function getAgent(
  db: Kysely<Database>,
  projectId: string,
  agentId: string,
): Promise<Agent> {
  const agent = await db
    .selectFrom('agents')
    .selectAll()
    .where('id', '=', agentId)
    .where('projectId', '=', projectId)
    .executeTakeFirst()
  if (agent === undefined) throw notFoundError('agent', agentId)
  return agent
}

/**
 * Revokes the agent: its credential and any unused registration token stop working at once, and
 * the leases of its running jobs end now, so the next lease gives them to another agent.
 */
export async function revokeAgent(
  db: Kysely<Database>,
  projectId: string,
  agentId: string,
  now: Date = new Date(),
): Promise<Agent> {
  const at = timestamp(now)
  return inTransaction(db, async (trx) => {
    const agent = await trx
      .updateTable('agents')
      .set((eb) => ({
        revokedAt: eb.fn.coalesce('revokedAt', eb.val(at)),
        registrationTokenHash: null,
        registrationExpiresAt: null,
      }))
      .where('id', '=', agentId)
      .where('projectId', '=', projectId)
      .returningAll()
      .executeTakeFirst()
    if (agent === undefined) throw notFoundError('agent', agentId)
    // One millisecond in the past: expired for the very next lease, whatever its clock's rounding.
    await trx
      .updateTable('jobs')
      .set({ leaseExpiresAt: timestamp(new Date(now.getTime() - 1)), updatedAt: at })
      .where('leasedBy', '=', agentId)
      .where('state', '=', 'running')
      .execute()
    return agent
  })
}

/** The embedded agent's name; it has no project (it runs every project's jobs). */
export const EMBEDDED_AGENT_NAME = 'embedded'

/**
 * The control plane's own agent (`DBSNAP_CP_EMBEDDED_AGENT`), with a new credential for this
 * process: the previous process's credential stops working. One row, kept across restarts.
 */
export async function ensureEmbeddedAgent(
  db: Kysely<Database>,
  facts: AgentFacts,
  now: Date = new Date(),
): Promise<{ agent: Agent; credential: string }> {
  const credential = newSecret(AGENT_CREDENTIAL_PREFIX)
  const at = timestamp(now)
  const agent = await inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('agents')
      .select('id')
      .where('projectId', 'is', null)
      .where('name', '=', EMBEDDED_AGENT_NAME)
      .executeTakeFirst()
    const fields = {
      credentialHash: hashSecret(credential),
      registeredAt: at,
      lastSeenAt: at,
      version: facts.version,
      hostname: facts.hostname,
      revokedAt: null,
    }
    if (existing !== undefined) {
      return trx
        .updateTable('agents')
        .set(fields)
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow()
    }
    const row: Agent = {
      id: newId(now.getTime()),
      projectId: null,
      name: EMBEDDED_AGENT_NAME,
      registrationTokenHash: null,
      registrationExpiresAt: null,
      createdBy: null,
      createdAt: at,
      ...fields,
    }
    await trx.insertInto('agents').values(row).execute()
    return row
  })
  return { agent, credential }
}
