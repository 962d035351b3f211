// Audit events of API requests: who (the signed-in user or the API key), from which IP, under
// which trace id. `audited` runs a change and appends its event in one transaction, so the log
// never records a change that did not happen nor misses one that did.

import { currentTraceId } from '@dbsnap/engine/core'
import type { Context } from 'hono'
import type { Kysely } from 'kysely'
import { appendAuditEvent, type AuditInput } from '../data/audit.js'
import type { Database } from '../db/schema.js'
import { clientIp } from '../middleware/client-ip.js'
import type { ApiContext } from './context.js'
import type { AppEnv, Principal } from './router.js'

/** What a route says about its event; the actor, IP and trace id come from the request. */
export type RequestAuditInput = Omit<AuditInput, 'ip' | 'traceId' | 'now' | 'actorType'> &
  Partial<Pick<AuditInput, 'actorType'>>

/** The event's actor: the request's principal, unless the route names one (a login). */
function withRequest(ctx: ApiContext, c: Context, input: RequestAuditInput): AuditInput {
  // Unset before authentication (sign-in routes): the event then names its actor itself.
  const principal = (c as Context<AppEnv>).var.principal as Principal | undefined
  const actor =
    principal === undefined
      ? { actorType: 'anonymous' as const }
      : principal.kind === 'api-key'
        ? { actorType: 'api_key' as const, actorId: principal.apiKey.id }
        : { actorType: 'user' as const, actorId: principal.user.id }
  const ip = clientIp(c, ctx.auth.trustProxy)
  const traceId = currentTraceId()
  return {
    ...actor,
    ...input,
    ...(ip === null ? {} : { ip }),
    ...(traceId === undefined ? {} : { traceId }),
  }
}

/** Appends one event (for what has no change of its own to commit with: a failed login). */
export async function audit(
  ctx: ApiContext,
  c: Context,
  input: RequestAuditInput,
  db: Kysely<Database> = ctx.db,
): Promise<void> {
  await appendAuditEvent(db, withRequest(ctx, c, input))
}

/**
 * Runs `change` in a transaction and appends the event `describe` makes of its result in the
 * same transaction.
 */
export async function audited<T>(
  ctx: ApiContext,
  c: Context,
  change: (trx: Kysely<Database>) => Promise<T>,
  describe: (result: T) => RequestAuditInput,
): Promise<T> {
  return ctx.db.transaction().execute(async (trx) => {
    const result = await change(trx)
    await appendAuditEvent(trx, withRequest(ctx, c, describe(result)))
    return result
  })
}
