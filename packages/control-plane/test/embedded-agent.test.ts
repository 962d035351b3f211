// One command gives a working service: the control plane on SQLite runs an agent inside itself
// (DBSNAP_CP_EMBEDDED_AGENT=auto), which takes a triggered snapshot of a real PostgreSQL database
// into its repository; the catalogue lists it. With PostgreSQL (replicas) the default is off.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp } from '../../../test/processes.js'
import { embeddedAgentEnabled, loadControlPlaneConfig } from '../src/config.js'

const bin = fileURLToPath(new URL('../bin/dbsnap-control-plane.js', import.meta.url))

describe('the embedded agent', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess
  let base: string
  let token: string

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-embedded-'))
    source = await createTestDatabase('dbsnap_it_embedded')
    await source.client.query(
      'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 200) g',
    )
    cp = spawn(process.execPath, [bin], {
      env: {
        ...process.env,
        LOG_FORMAT: 'json',
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      },
    })
    let agentStarted = false
    for await (const text of createInterface({ input: cp.stdout! })) {
      const line = JSON.parse(text) as { port?: number; msg?: string }
      if (line.port !== undefined) base = `http://127.0.0.1:${line.port}`
      if (line.msg?.startsWith('embedded agent started') === true) agentStarted = true
      if (base !== undefined && agentStarted) break
    }
    token = await signUp(base)
  }, 60_000)

  afterAll(async () => {
    const exited = new Promise((resolve) => cp.once('exit', resolve))
    cp.kill('SIGTERM')
    await exited
    await source.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('runs a triggered snapshot with no agent to install', async () => {
    const org = await api('POST', '/orgs', { name: 'Acme', slug: 'acme' })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    const projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    const connection = await api('POST', `${projectBase}/connections`, {
      name: 'shop',
      url: source.url,
    })
    const job = await api(
      'POST',
      `${projectBase}/connections/${connection['id'] as string}/snapshots`,
    )
    let seen = job
    for (let i = 0; i < 200 && seen['state'] !== 'succeeded' && seen['state'] !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await api('GET', `${projectBase}/jobs/${job['id'] as string}`)
    }
    expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded' })
    const result = seen['result'] as { id: string; totals: { rows: number } }
    expect(result.totals.rows).toBe(200)
    expect(await readdir(join(dir, 'repo', 'snapshots'))).toContainEqual(
      expect.stringContaining(result.id),
    )
    const catalogue = (await api('GET', `${projectBase}/snapshots`))['snapshots'] as {
      id: string
    }[]
    expect(catalogue.map((s) => s.id)).toEqual([result.id])
  })

  it('is on by default with SQLite only', () => {
    const on = (env: Record<string, string>) => embeddedAgentEnabled(loadControlPlaneConfig(env))
    expect(on({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' })).toBe(true)
    expect(on({ DATABASE_URL: 'postgres://cp@db/cp' })).toBe(false)
    expect(on({ DATABASE_URL: 'postgres://cp@db/cp', DBSNAP_CP_EMBEDDED_AGENT: 'true' })).toBe(true)
    expect(on({ DATABASE_URL: 'sqlite:/tmp/x.sqlite', DBSNAP_CP_EMBEDDED_AGENT: 'false' })).toBe(
      false,
    )
  })
})
