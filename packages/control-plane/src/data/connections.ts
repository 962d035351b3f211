// Connections of a project: a database the agent snapshots. The credential is either the whole
// URL, sealed (secrets/secret-box.ts) and bound to its row, or a reference the agent resolves on
// its side (`env:NAME`, `file:/path`), so the secret never leaves the private network. Only the
// redacted URL is ever read back; every read and write names the organisation and the project.

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import { inTransaction } from '../db/transaction.js'
import type { ConnectionsTable, Database } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import type { SecretBox } from '../secrets/secret-box.js'
import { engineOfUrl, redactConnectionUrl, type Engine } from './connection-url.js'
import { findProject } from './projects.js'

export type Connection = ConnectionsTable

/** What the credential is: a URL (sealed at rest) or a reference the agent resolves. */
export type CredentialInput = { url: string } | { engine: Engine; ref: string }

/** TLS material (PEM) attached to a connection; sealed as one JSON document. */
export interface TlsMaterial {
  ca?: string | undefined
  cert?: string | undefined
  key?: string | undefined
}

export interface ConnectionScope {
  orgId: string
  projectId: string
}

/** What the API shows of a connection: never the ciphertext, never a password. */
export interface ConnectionSummary {
  id: string
  projectId: string
  name: string
  engine: Engine
  /** The redacted URL; null for a reference. */
  url: string | null
  /** `env:NAME` or `file:/path`; null for a stored URL. */
  ref: string | null
  /** Whether TLS material is attached (never the material itself). */
  tls: boolean
  createdAt: string
  updatedAt: string
}

export function connectionSummary(row: Connection): ConnectionSummary {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    engine: row.engine,
    url: row.credentialRef === null ? row.redactedUrl : null,
    ref: row.credentialRef,
    tls: row.tlsCiphertext !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/** The additional authenticated data of a connection's ciphertext: its row. */
export const credentialContext = (connectionId: string): string => `connection:${connectionId}`
/** The same for its TLS material: neither ciphertext can stand in for the other. */
export const tlsContext = (connectionId: string): string => `connection:${connectionId}:tls`

/** The TLS columns for `tls`, sealed for the row `id`; null clears them. */
function tlsColumns(
  box: SecretBox,
  id: string,
  tls: TlsMaterial | null,
): Pick<Connection, 'tlsCiphertext' | 'tlsKeyId'> {
  if (tls === null) return { tlsCiphertext: null, tlsKeyId: null }
  const sealed = box.seal(JSON.stringify(tls), tlsContext(id))
  return { tlsCiphertext: sealed.ciphertext, tlsKeyId: sealed.keyId }
}

/** The credential columns for `input`, sealed for the row `id`. */
function credentialColumns(
  box: SecretBox,
  id: string,
  input: CredentialInput,
): Pick<
  Connection,
  'engine' | 'redactedUrl' | 'credentialCiphertext' | 'credentialKeyId' | 'credentialRef'
> {
  if ('ref' in input) {
    // A reference holds no secret: it is its own redacted form.
    return {
      engine: input.engine,
      redactedUrl: input.ref,
      credentialCiphertext: null,
      credentialKeyId: null,
      credentialRef: input.ref,
    }
  }
  const sealed = box.seal(input.url.trim(), credentialContext(id))
  return {
    engine: engineOfUrl(input.url),
    redactedUrl: redactConnectionUrl(input.url),
    credentialCiphertext: sealed.ciphertext,
    credentialKeyId: sealed.keyId,
    credentialRef: null,
  }
}

const nameTaken = (name: string) => (cause: unknown) =>
  new ControlPlaneError(
    'NAME_TAKEN',
    `the project already has a connection ${JSON.stringify(name)}`,
    {
      cause,
      details: { name },
    },
  )

/** Creates a connection; NOT_FOUND for a project of another organisation, NAME_TAKEN. */
export async function createConnection(
  db: Kysely<Database>,
  box: SecretBox,
  scope: ConnectionScope,
  input: { name: string; credential: CredentialInput; tls?: TlsMaterial | undefined },
): Promise<Connection> {
  if ((await findProject(db, scope.orgId, scope.projectId)) === undefined) {
    throw notFoundError('project', scope.projectId)
  }
  const id = newId()
  const now = timestamp()
  const row: Connection = {
    id,
    projectId: scope.projectId,
    name: input.name,
    ...credentialColumns(box, id, input.credential),
    ...tlsColumns(box, id, input.tls ?? null),
    createdAt: now,
    updatedAt: now,
  }
  await translateConstraints(() => db.insertInto('connections').values(row).execute(), {
    unique: nameTaken(input.name),
    'foreign-key': (cause) => notFoundError('project', scope.projectId, cause),
  })
  return row
}

/** The connection `id` of the project and organisation in `scope`; undefined otherwise. */
export async function findConnection(
  db: Kysely<Database>,
  scope: ConnectionScope,
  id: string,
): Promise<Connection | undefined> {
  return db
    .selectFrom('connections')
    .innerJoin('projects', 'projects.id', 'connections.projectId')
    .selectAll('connections')
    .where('projects.orgId', '=', scope.orgId)
    .where('connections.projectId', '=', scope.projectId)
    .where('connections.id', '=', id)
    .executeTakeFirst()
}

/** The project's connections by name; NOT_FOUND for a project of another organisation. */
export async function listConnections(
  db: Kysely<Database>,
  scope: ConnectionScope,
): Promise<Connection[]> {
  // Both at once (two pooled connections on PostgreSQL); the rows of a project outside the
  // organisation are read but never returned.
  const [project, rows] = await Promise.all([
    findProject(db, scope.orgId, scope.projectId),
    db
      .selectFrom('connections')
      .selectAll()
      .where('projectId', '=', scope.projectId)
      .orderBy('name')
      .orderBy('id')
      .execute(),
  ])
  if (project === undefined) throw notFoundError('project', scope.projectId)
  return rows
}

/**
 * Renames a connection, replaces its credential, and/or replaces its TLS material (`tls: null`
 * removes it); NOT_FOUND, NAME_TAKEN.
 */
export async function updateConnection(
  db: Kysely<Database>,
  box: SecretBox,
  scope: ConnectionScope,
  id: string,
  change: {
    name?: string | undefined
    credential?: CredentialInput | undefined
    tls?: TlsMaterial | null | undefined
  },
): Promise<Connection> {
  if ((await findConnection(db, scope, id)) === undefined) throw notFoundError('connection', id)
  const set = {
    ...(change.name === undefined ? {} : { name: change.name }),
    ...(change.credential === undefined ? {} : credentialColumns(box, id, change.credential)),
    ...(change.tls === undefined ? {} : tlsColumns(box, id, change.tls)),
    updatedAt: timestamp(),
  }
  const row = await translateConstraints(
    () =>
      db
        .updateTable('connections')
        .set(set)
        .where('id', '=', id)
        .where('projectId', '=', scope.projectId)
        .returningAll()
        .executeTakeFirst(),
    change.name === undefined ? {} : { unique: nameTaken(change.name) },
  )
  if (row === undefined) throw notFoundError('connection', id)
  return row
}

export async function deleteConnection(
  db: Kysely<Database>,
  scope: ConnectionScope,
  id: string,
): Promise<void> {
  if ((await findConnection(db, scope, id)) === undefined) throw notFoundError('connection', id)
  await db
    .deleteFrom('connections')
    .where('id', '=', id)
    .where('projectId', '=', scope.projectId)
    .execute()
}

/** The plaintext URL of a stored credential (for the agent, and rotation); undefined for a ref. */
export function openCredential(box: SecretBox, row: Connection): string | undefined {
  if (row.credentialCiphertext === null || row.credentialKeyId === null) return undefined
  return box.open(
    { ciphertext: row.credentialCiphertext, keyId: row.credentialKeyId },
    credentialContext(row.id),
  )
}

/** The TLS material of a connection; undefined when none is attached. */
export function openTls(box: SecretBox, row: Connection): TlsMaterial | undefined {
  if (row.tlsCiphertext === null || row.tlsKeyId === null) return undefined
  return JSON.parse(
    box.open({ ciphertext: row.tlsCiphertext, keyId: row.tlsKeyId }, tlsContext(row.id)),
  ) as TlsMaterial
}

/**
 * Re-seals every stored credential and TLS material not under the box's current key (key
 * rotation), in one transaction: on any that does not open (its key not configured, or altered)
 * nothing is changed. Returns how many connections were re-sealed, and how many hold a secret.
 */
export async function resealCredentials(
  db: Kysely<Database>,
  box: SecretBox,
): Promise<{ resealed: number; stored: number }> {
  return inTransaction(db, async (trx) => {
    const rows = await trx
      .selectFrom('connections')
      .selectAll()
      .where((eb) =>
        eb.or([eb('credentialCiphertext', 'is not', null), eb('tlsCiphertext', 'is not', null)]),
      )
      .orderBy('id')
      .execute()
    let resealed = 0
    for (const row of rows) {
      const stale = (keyId: string | null) => keyId !== null && keyId !== box.current.id
      if (!stale(row.credentialKeyId) && !stale(row.tlsKeyId)) continue
      const url = openCredential(box, row)
      const tls = openTls(box, row)
      await trx
        .updateTable('connections')
        .set({
          ...(url === undefined ? {} : credentialColumns(box, row.id, { url })),
          ...(tls === undefined ? {} : tlsColumns(box, row.id, tls)),
        })
        .where('id', '=', row.id)
        .execute()
      resealed += 1
    }
    return { resealed, stored: rows.length }
  })
}
