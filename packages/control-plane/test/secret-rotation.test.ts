// Key rotation on both dialects: every stored credential and TLS material is re-sealed under the
// new key, in one transaction, so a credential that does not open leaves all of them as they were.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createConnection,
  openCredential,
  openTls,
  resealCredentials,
} from '../src/data/connections.js'
import { createOrg } from '../src/data/orgs.js'
import { createProject } from '../src/data/projects.js'
import { createUser } from '../src/data/users.js'
import { SecretBox, secretKey, type SecretKey } from '../src/secrets/secret-box.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const newKey = () => secretKey(randomBytes(32))
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n'

describe.each(DIALECTS)('rotate-secret-key on %s', (dialect) => {
  let cp: TestControlPlaneDb
  let scope: { orgId: string; projectId: string }
  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
    const owner = await createUser(cp.db, { email: 'o@example.com', passwordHash: null })
    const org = await createOrg(cp.db, { name: 'Acme', slug: 'acme', ownerId: owner.id })
    const project = await createProject(cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })
    scope = { orgId: org.id, projectId: project.id }
  })
  afterAll(async () => {
    await cp.drop()
  })

  /** The keys made here, by id, so a later case can name one. */
  const keys = new Map<string, SecretKey>()
  const secretKeyOf = (id: string): SecretKey => keys.get(id)!
  const rows = () => cp.db.selectFrom('connections').selectAll().orderBy('name').execute()

  it('re-seals every credential under the new key, leaving references alone', async () => {
    const old = new SecretBox(newKey())
    for (const name of ['a', 'b']) {
      await createConnection(cp.db, old, scope, {
        name,
        credential: { url: `postgres://u:pw-${name}@db/${name}` },
      })
    }
    await createConnection(cp.db, old, scope, {
      name: 'c',
      credential: { engine: 'mongodb', ref: 'env:C_URL' },
      tls: { ca: CA },
    })
    const rotated = new SecretBox(newKey(), [old.current])
    keys.set(rotated.current.id, rotated.current)
    expect(await resealCredentials(cp.db, rotated)).toEqual({ resealed: 3, stored: 3 })
    const newOnly = new SecretBox(rotated.current)
    const after = await rows()
    expect(after.map((r) => r.tlsKeyId)).toEqual([null, null, rotated.current.id])
    expect(openTls(newOnly, after[2]!)).toEqual({ ca: CA })
    expect(after.map((r) => r.credentialKeyId)).toEqual([
      rotated.current.id,
      rotated.current.id,
      null,
    ])
    expect(after.map((r) => openCredential(newOnly, r))).toEqual([
      'postgres://u:pw-a@db/a',
      'postgres://u:pw-b@db/b',
      undefined,
    ])
    // Run again: nothing left to do.
    expect(await resealCredentials(cp.db, rotated)).toEqual({ resealed: 0, stored: 3 })
  })

  it('changes nothing when a credential does not open', async () => {
    // One more credential, under a key the rotation below is not given; ids sort by creation,
    // so a and b are re-sealed before d fails, and must be rolled back.
    await createConnection(cp.db, new SecretBox(newKey()), scope, {
      name: 'd',
      credential: { url: 'mysql://u:pw-d@db/d' },
    })
    const before = await rows()
    const box = new SecretBox(newKey(), [secretKeyOf(before[0]!.credentialKeyId!)])
    await expect(resealCredentials(cp.db, box)).rejects.toMatchObject({
      code: 'SECRET_UNREADABLE',
    })
    expect(await rows()).toEqual(before)
  })
})
