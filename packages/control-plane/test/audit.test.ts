// The audit log on both dialects: append-only in the database, hash-chained per organisation,
// tampering found by verification, concurrent writers serialised.

import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendAuditEvent,
  INSTANCE_CHAIN,
  listAuditEvents,
  verifyAuditChain,
  type AuditInput,
} from '../src/data/audit.js'
import { newId } from '../src/db/ids.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let cp: TestControlPlaneDb
  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
  })
  afterAll(async () => {
    await cp.drop()
  })

  const event = (orgId: string, action: string, extra: Partial<AuditInput> = {}): AuditInput => ({
    actorType: 'user',
    actorId: newId(),
    orgId,
    action,
    targetType: 'session',
    targetId: newId(),
    ip: '203.0.113.7',
    traceId: randomBytes(16).toString('hex'),
    details: { reason: 'logout', note: "o'brien \u202e 🦆" },
    ...extra,
  })

  /** Runs `change` with the append-only triggers out of the way: what an attacker with SQL access could do. */
  async function tamper(change: string): Promise<void> {
    if (dialect === 'postgres') {
      await sql.raw(`alter table audit_events disable trigger user`).execute(cp.db)
      await sql.raw(change).execute(cp.db)
      await sql.raw(`alter table audit_events enable trigger user`).execute(cp.db)
    } else {
      await sql.raw('drop trigger if exists audit_events_no_update').execute(cp.db)
      await sql.raw('drop trigger if exists audit_events_no_delete').execute(cp.db)
      await sql.raw(change).execute(cp.db)
    }
  }

  it('chains each organisation’s events and lists them newest first with filters', async () => {
    const org = newId()
    const first = await appendAuditEvent(
      cp.db,
      event(org, 'session.revoked', { now: '2026-05-01T00:00:00.000Z' }),
    )
    const second = await appendAuditEvent(
      cp.db,
      event(org, 'api_key.created', { now: '2026-05-02T00:00:00.000Z' }),
    )
    const third = await appendAuditEvent(
      cp.db,
      event(org, 'session.revoked', { now: '2026-05-03T00:00:00.000Z' }),
    )
    expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3])
    expect(second.prevHash).toBe(first.hash)
    expect(JSON.parse(first.details)).toEqual({ reason: 'logout', note: "o'brien \u202e 🦆" })
    expect(await verifyAuditChain(cp.db, org)).toBe(3)

    expect(await listAuditEvents(cp.db, { orgId: org })).toEqual([third, second, first])
    expect(await listAuditEvents(cp.db, { orgId: org, action: 'session.revoked' })).toEqual([
      third,
      first,
    ])
    expect(await listAuditEvents(cp.db, { orgId: org, actorId: second.actorId! })).toEqual([second])
    expect(
      await listAuditEvents(cp.db, {
        orgId: org,
        since: '2026-05-02T00:00:00.000Z',
        until: '2026-05-03T00:00:00.000Z',
      }),
    ).toEqual([second])
    expect(await listAuditEvents(cp.db, { orgId: org, beforeSeq: 3, limit: 1 })).toEqual([second])
    expect(await listAuditEvents(cp.db, { orgId: newId() })).toEqual([])
  })

  it('keeps events of no organisation in the instance chain', async () => {
    const failed = await appendAuditEvent(cp.db, {
      actorType: 'anonymous',
      action: 'login.failed',
      ip: '198.51.100.9',
      details: { email: 'nobody@example.com' },
    })
    expect(failed).toMatchObject({ chain: INSTANCE_CHAIN, orgId: null, actorId: null })
    expect(await verifyAuditChain(cp.db, INSTANCE_CHAIN)).toBeGreaterThanOrEqual(1)
  })

  it('refuses to change or delete an event, in the database', async () => {
    const org = newId()
    const e = await appendAuditEvent(cp.db, event(org, 'login.succeeded'))
    await expect(
      sql`update audit_events set action = 'x' where id = ${e.id}`.execute(cp.db),
    ).rejects.toThrow(/append-only/)
    await expect(sql`delete from audit_events where id = ${e.id}`.execute(cp.db)).rejects.toThrow(
      /append-only/,
    )
    if (dialect === 'postgres') {
      await expect(sql`truncate audit_events`.execute(cp.db)).rejects.toThrow(/append-only/)
    }
    expect(await listAuditEvents(cp.db, { orgId: org })).toEqual([e])
  })

  it('serialises concurrent writers into one unbroken chain', async () => {
    const org = newId()
    const events = await Promise.all(
      Array.from({ length: 8 }, (_, i) => appendAuditEvent(cp.db, event(org, `action.${i}`))),
    )
    expect(events.map((e) => e.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await verifyAuditChain(cp.db, org, 3)).toBe(8)
  })

  // Last: tampering on SQLite drops the triggers for the rest of this database.
  it('finds a changed event and a removed one', async () => {
    const changed = newId()
    const removed = newId()
    for (const org of [changed, removed]) {
      for (const action of ['a', 'b', 'c']) await appendAuditEvent(cp.db, event(org, action))
    }
    await tamper(`update audit_events set ip = '10.0.0.1' where org_id = '${changed}' and seq = 2`)
    await expect(verifyAuditChain(cp.db, changed)).rejects.toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { seq: 2 },
    })
    await tamper(`delete from audit_events where org_id = '${removed}' and seq = 2`)
    await expect(verifyAuditChain(cp.db, removed)).rejects.toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { seq: 3, expectedSeq: 2 },
    })
  })
})
