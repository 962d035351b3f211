// Closing a PostgreSQL connection as libpq does: Terminate, then the socket closed, without
// waiting for the server to close its side (`finishClient`), against the real server.

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finishClient } from '../src/adapters/postgres/postgres-source.js'
import { slowClosingProxy, type Blackhole } from '../../../test/net.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

const LINGER_MS = 2_000

describe('finishClient', () => {
  let db: TestDatabase
  let proxy: Blackhole
  /** A client of `db` through the proxy, and its backend's pid. */
  const throughProxy = async (): Promise<{ client: pg.Client; pid: number }> => {
    const url = new URL(db.url)
    url.host = `127.0.0.1:${proxy.port}`
    const client = new pg.Client({ connectionString: url.href })
    client.on('error', () => undefined)
    await client.connect()
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    return { client, pid: rows[0]!.pid }
  }
  const alive = async (pid: number): Promise<boolean> =>
    (await db.client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_finish')
    proxy = await slowClosingProxy(Number(new URL(db.url).port || 5432), LINGER_MS)
  })

  afterAll(async () => {
    await proxy?.close()
    await db?.drop()
  })

  it('ends the session without waiting for the server to close its side', async () => {
    const { client, pid } = await throughProxy()
    const started = performance.now()
    await finishClient(client)
    expect(performance.now() - started).toBeLessThan(LINGER_MS / 2)
    // The server got Terminate: the session ends, without waiting on the proxy either.
    const deadline = Date.now() + LINGER_MS / 2
    while ((await alive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(await alive(pid)).toBe(false)
  })

  it('is what node-postgres end() is not: end() waits for the server to close', async () => {
    const { client } = await throughProxy()
    const started = performance.now()
    await client.end()
    expect(performance.now() - started).toBeGreaterThanOrEqual(LINGER_MS * 0.9)
  })

  it('ends a client that never connected, and one already ended', async () => {
    await finishClient(new pg.Client({ connectionString: db.url }))
    const { client } = await throughProxy()
    await finishClient(client)
    await finishClient(client)
  })
})
