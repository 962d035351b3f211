// The agent end to end, as a platform team runs it: a real control plane process (SQLite), a real
// `dbsnap-agent` process registered with a one-time token, a real PostgreSQL database. A script
// with an API key asks for a snapshot; the agent leases it, snapshots the database into its own
// repository and reports; the job ends `succeeded` with the snapshot's id, which the catalogue
// lists; SIGTERM stops the agent.

import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const run = promisify(execFile)

describe('dbsnap-agent with a control plane and PostgreSQL', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess
  let base: string
  let token: string
  let projectBase: string
  let connectionId: string

  const api = (method: string, path: string, body?: unknown, bearer = token) =>
    callApi(base, bearer, method, path, body)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-e2e-'))
    source = await createTestDatabase('dbsnap_it_agent')
    await source.client.query(
      'CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g',
    )
    const server = await startLogging(
      cpBin,
      [],
      {
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        // Only the agents this test starts run jobs.
        DBSNAP_CP_EMBEDDED_AGENT: 'false',
      },
      'port',
    )
    cp = server.child
    base = `http://127.0.0.1:${server.line['port'] as number}`
    token = await signUp(base)
    const org = await api('POST', '/orgs', { name: 'Acme', slug: 'acme' })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    connectionId = (
      await api('POST', `${projectBase}/connections`, { name: 'shop', url: source.url })
    )['id'] as string
  }, 60_000)

  afterAll(async () => {
    cp?.kill('SIGTERM')
    await source?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('registers, snapshots what an API key asks for, and stops on SIGTERM', async () => {
    const made = await api('POST', `${projectBase}/agents`, { name: 'backup-1' })
    const env = {
      DBSNAP_AGENT_STATE_DIR: join(dir, 'agent-state'),
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      DBSNAP_AGENT_HEALTH_PORT: '0',
    }
    await run(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    expect((await stat(join(dir, 'agent-state', 'agent.json'))).mode & 0o777).toBe(0o600)

    const agent = await startLogging(agentBin, ['run'], env, 'healthPort')
    try {
      const { secret } = (await api('POST', `/orgs/${projectBase.split('/')[2]}/keys`, {
        name: 'cron',
        scopes: ['snapshots:write', 'snapshots:read', 'jobs:read'],
      })) as { secret: string }
      const job = await api(
        'POST',
        `${projectBase}/connections/${connectionId}/snapshots`,
        { tags: { reason: 'e2e' } },
        secret,
      )
      let seen: Record<string, unknown> = job
      for (
        let i = 0;
        i < 120 && !['succeeded', 'failed', 'dead'].includes(seen['state'] as string);
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        seen = await api('GET', `${projectBase}/jobs/${job['id'] as string}`, undefined, secret)
      }
      expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded', attempts: 1 })
      const result = seen['result'] as { id: string; name: string; totals: { rows: number } }
      expect(result).toMatchObject({ name: 'shop', totals: { rows: 500 } })
      expect(await readdir(join(dir, 'repo', 'snapshots'))).toContainEqual(
        expect.stringContaining(result.id),
      )
      const catalogue = await api('GET', `${projectBase}/snapshots`, undefined, secret)
      expect(catalogue['snapshots']).toEqual([
        expect.objectContaining({
          id: result.id,
          connectionId,
          rows: 500,
          tags: { reason: 'e2e' },
        }),
      ])
      const health = await fetch(`http://127.0.0.1:${agent.line['healthPort'] as number}/readyz`)
      expect(health.status).toBe(200)
    } finally {
      const exited = new Promise<number | null>((resolve) => agent.child.once('exit', resolve))
      agent.child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
  })
})
