// The audit log: append-only (database triggers refuse UPDATE and DELETE) and hash-chained per
// organisation, so a changed, removed or reordered event is detectable by `verifyAuditChain`.

import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { newId } from '../db/ids.js'
import { inTransaction } from '../db/transaction.js'
import type { AuditEvent, AuditEventsTable, Database, Timestamp } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'

/** The chain of events that belong to no organisation (a failed login of an unknown email). */
export const INSTANCE_CHAIN = 'instance'
const GENESIS = '0'.repeat(64)

export interface AuditInput {
  actorType: AuditEventsTable['actorType']
  actorId?: string
  orgId?: string
  /** What happened, as `resource.verb` (`session.revoked`, `api_key.created`, `login.failed`). */
  action: string
  targetType?: string
  targetId?: string
  ip?: string
  traceId?: string
  /** The action's own facts; never a secret. */
  details?: Record<string, unknown>
  now?: Timestamp
}

/** SHA-256 of an event's recorded fields and its predecessor's hash, in one fixed order. */
export function auditHash(event: Omit<AuditEvent, 'id' | 'hash'>): string {
  const fields = [
    event.chain,
    event.seq,
    event.occurredAt,
    event.actorType,
    event.actorId,
    event.orgId,
    event.action,
    event.targetType,
    event.targetId,
    event.ip,
    event.traceId,
    event.details,
    event.prevHash,
  ]
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex')
}

/**
 * Appends an event to its organisation's chain (or the instance's). Given a transaction, the
 * event commits or rolls back with the action it records. Writers to one chain take turns on
 * its head row (`audit_chain_heads`: a row lock on PostgreSQL, the write lock on SQLite), so
 * any number of replicas extend the chain without forking it.
 */
export async function appendAuditEvent(
  db: Kysely<Database>,
  input: AuditInput,
): Promise<AuditEvent> {
  return inTransaction(db, (trx) => appendIn(trx, input))
}

async function appendIn(trx: Kysely<Database>, input: AuditInput): Promise<AuditEvent> {
  const chain = input.orgId ?? INSTANCE_CHAIN
  await trx
    .insertInto('auditChainHeads')
    .values({ chain, seq: 0, hash: GENESIS })
    .onConflict((oc) => oc.column('chain').doNothing())
    .execute()
  // Taking the next number locks the head until this transaction ends; `hash` is still the last event's.
  const head = await trx
    .updateTable('auditChainHeads')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('chain', '=', chain)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow()
  const unhashed: Omit<AuditEvent, 'id' | 'hash'> = {
    chain,
    seq: head.seq,
    occurredAt: input.now ?? timestamp(),
    actorType: input.actorType,
    actorId: input.actorId ?? null,
    orgId: input.orgId ?? null,
    action: input.action,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    ip: input.ip ?? null,
    traceId: input.traceId ?? null,
    details: JSON.stringify(input.details ?? {}),
    prevHash: head.hash,
  }
  const event: AuditEvent = { id: newId(), ...unhashed, hash: auditHash(unhashed) }
  await trx.insertInto('auditEvents').values(event).execute()
  await trx
    .updateTable('auditChainHeads')
    .set({ hash: event.hash })
    .where('chain', '=', chain)
    .execute()
  return event
}

export interface AuditQuery {
  orgId: string
  action?: string
  actorId?: string
  /** Events at or after this time. */
  since?: Timestamp
  /** Events before this time. */
  until?: Timestamp
  /** Events older than the one with this `seq` (the next page after it). */
  beforeSeq?: number
  /** At most this many (default 100). */
  limit?: number
}

/** An organisation's events matching the filters, newest first. */
export async function listAuditEvents(
  db: Kysely<Database>,
  query: AuditQuery,
): Promise<AuditEvent[]> {
  return db
    .selectFrom('auditEvents')
    .selectAll()
    .where('chain', '=', query.orgId)
    .$if(query.action !== undefined, (q) => q.where('action', '=', query.action!))
    .$if(query.actorId !== undefined, (q) => q.where('actorId', '=', query.actorId!))
    .$if(query.since !== undefined, (q) => q.where('occurredAt', '>=', query.since!))
    .$if(query.until !== undefined, (q) => q.where('occurredAt', '<', query.until!))
    .$if(query.beforeSeq !== undefined, (q) => q.where('seq', '<', query.beforeSeq!))
    .orderBy('seq', 'desc')
    .limit(query.limit ?? 100)
    .execute()
}

/**
 * Walks a chain from its first event and recomputes every hash. Returns how many events it
 * checked; `AUDIT_CHAIN_BROKEN` names the first event (by `seq`) that does not match: changed,
 * or following a gap where one was removed.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  chain: string,
  pageSize = 1000,
): Promise<number> {
  let prevHash = GENESIS
  let expectedSeq = 1
  for (;;) {
    const page = await db
      .selectFrom('auditEvents')
      .selectAll()
      .where('chain', '=', chain)
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute()
    for (const event of page) {
      const { id: _id, hash, ...unhashed } = event
      if (
        event.seq !== expectedSeq ||
        event.prevHash !== prevHash ||
        auditHash(unhashed) !== hash
      ) {
        throw new ControlPlaneError(
          'AUDIT_CHAIN_BROKEN',
          `audit event ${event.seq} of chain ${chain} does not match the chain`,
          {
            details: { chain, seq: event.seq, expectedSeq },
          },
        )
      }
      prevHash = hash
      expectedSeq += 1
    }
    if (page.length < pageSize) return expectedSeq - 1
  }
}
