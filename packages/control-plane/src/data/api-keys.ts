// API keys: credentials for scripts and CI, per organisation or per project, with scopes. The
// key is shown once; only its prefix (to find it) and SHA-256 (to check it) are stored.

import { sql, type Kysely } from 'kysely'
import { dayOf, timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import { inTransaction } from '../db/transaction.js'
import type { ApiKey, Database, Timestamp } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

export interface NewApiKeyInput {
  /** The key's public start (`dbs_…`), unique among keys. */
  prefix: string
  /** SHA-256 (hex) of the whole key. */
  keyHash: string
  name: string
  scopes: readonly string[]
  orgId: string
  /** The project the key is limited to; omitted for a key of the whole organisation. */
  projectId?: string
  createdBy: string
  expiresAt?: Timestamp
  now?: Timestamp
}

/** Scopes as stored (space-separated) and back. */
export function scopesOf(key: Pick<ApiKey, 'scopes'>): string[] {
  return key.scopes === '' ? [] : key.scopes.split(' ')
}

function keyRow(input: NewApiKeyInput, rotatedFromId: string | null): ApiKey {
  const badScope = input.scopes.find((s) => !/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/.test(s))
  if (badScope !== undefined) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      `a scope is \`resource:action\`, got ${JSON.stringify(badScope)}`,
      {
        details: { scope: badScope },
      },
    )
  }
  return {
    id: newId(),
    prefix: input.prefix,
    keyHash: input.keyHash,
    name: input.name,
    scopes: [...new Set(input.scopes)].join(' '),
    orgId: input.orgId,
    projectId: input.projectId ?? null,
    createdBy: input.createdBy,
    createdAt: input.now ?? timestamp(),
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
    rotatedFromId,
  }
}

async function insertKey(db: Kysely<Database>, key: ApiKey): Promise<void> {
  await translateConstraints(() => db.insertInto('apiKeys').values(key).execute(), {
    // The project must be one of the organisation's: another tenant's project id is not found.
    'foreign-key': (cause) =>
      notFoundError('organisation, project or user', key.projectId ?? key.orgId, cause),
  })
}

export async function createApiKey(db: Kysely<Database>, input: NewApiKeyInput): Promise<ApiKey> {
  const key = keyRow(input, null)
  await insertKey(db, key)
  return key
}

/**
 * The key that starts with `prefix`, if it can be used now (not revoked, not expired). The
 * caller compares the presented key's hash with `keyHash` in constant time.
 */
export async function findUsableApiKey(
  db: Kysely<Database>,
  prefix: string,
  now: Timestamp = timestamp(),
): Promise<ApiKey | undefined> {
  return db
    .selectFrom('apiKeys')
    .selectAll()
    .where('prefix', '=', prefix)
    .where('revokedAt', 'is', null)
    .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', now)]))
    .executeTakeFirst()
}

/** A key of the organisation by id, revoked or not; undefined for another organisation's. */
export async function findApiKey(
  db: Kysely<Database>,
  orgId: string,
  id: string,
): Promise<ApiKey | undefined> {
  return db
    .selectFrom('apiKeys')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

/** The organisation's keys (or one project's), newest first, revoked ones included. */
export async function listApiKeys(
  db: Kysely<Database>,
  orgId: string,
  projectId?: string,
): Promise<ApiKey[]> {
  return db
    .selectFrom('apiKeys')
    .selectAll()
    .where('orgId', '=', orgId)
    .$if(projectId !== undefined, (q) => q.where('projectId', '=', projectId!))
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

/** Revokes a key of the organisation at once; `NOT_FOUND` for another's key or one already revoked. */
export async function revokeApiKey(
  db: Kysely<Database>,
  orgId: string,
  id: string,
  now: Timestamp = timestamp(),
): Promise<void> {
  const { numUpdatedRows } = await db
    .updateTable('apiKeys')
    .set({ revokedAt: now })
    .where('orgId', '=', orgId)
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .executeTakeFirst()
  if (numUpdatedRows === 0n) throw notFoundError('API key', id)
}

/**
 * Replaces key `id` with a new one of the same organisation, project and scopes. The old key
 * keeps working until `graceUntil` (or its own earlier expiry), so deployments can switch over.
 */
export async function rotateApiKey(
  db: Kysely<Database>,
  input: {
    orgId: string
    id: string
    prefix: string
    keyHash: string
    createdBy: string
    graceUntil: Timestamp
    now?: Timestamp
  },
): Promise<ApiKey> {
  const now = input.now ?? timestamp()
  return inTransaction(db, async (trx) => {
    const old = await trx
      .selectFrom('apiKeys')
      .selectAll()
      .where('orgId', '=', input.orgId)
      .where('id', '=', input.id)
      .where('revokedAt', 'is', null)
      .executeTakeFirst()
    if (old === undefined) throw notFoundError('API key', input.id)
    const graceEnd =
      old.expiresAt !== null && old.expiresAt < input.graceUntil ? old.expiresAt : input.graceUntil
    await trx.updateTable('apiKeys').set({ expiresAt: graceEnd }).where('id', '=', old.id).execute()
    const key = keyRow(
      {
        prefix: input.prefix,
        keyHash: input.keyHash,
        name: old.name,
        scopes: scopesOf(old),
        orgId: old.orgId,
        ...(old.projectId === null ? {} : { projectId: old.projectId }),
        createdBy: input.createdBy,
        ...(old.expiresAt === null ? {} : { expiresAt: old.expiresAt }),
        now,
      },
      old.id,
    )
    await insertKey(trx, key)
    return key
  })
}

/**
 * Counts `count` requests made with the key on the day of `now` and marks it used at `now` (an
 * upsert that adds, so replicas' counts add up).
 */
export async function recordApiKeyUse(
  db: Kysely<Database>,
  id: string,
  now: Timestamp = timestamp(),
  count = 1,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto('apiKeyUsage')
      .values({ apiKeyId: id, day: dayOf(now), count })
      .onConflict((oc) =>
        oc
          .columns(['apiKeyId', 'day'])
          .doUpdateSet({ count: sql<number>`api_key_usage.count + ${count}` }),
      )
      .execute()
    await trx.updateTable('apiKeys').set({ lastUsedAt: now }).where('id', '=', id).execute()
  })
}

/** Requests per UTC day made with the key, oldest first, from `sinceDay` (`YYYY-MM-DD`) on. */
export async function apiKeyUsage(
  db: Kysely<Database>,
  id: string,
  sinceDay?: string,
): Promise<{ day: string; count: number }[]> {
  return db
    .selectFrom('apiKeyUsage')
    .select(['day', 'count'])
    .where('apiKeyId', '=', id)
    .$if(sinceDay !== undefined, (q) => q.where('day', '>=', sinceDay!))
    .orderBy('day')
    .execute()
}
