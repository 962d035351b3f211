// The agent end to end, as a platform team runs it: a real control plane process (SQLite), a real
// `dbsnap-agent` process registered with a one-time token, a real PostgreSQL database. A script
// with an API key asks for a snapshot; the agent leases it, snapshots the database into its own
// repository and reports; the job ends `succeeded` with the snapshot's id, which the catalogue
// lists; SIGTERM stops the agent.

import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const run = promisify(execFile)

/** Starts a bin and resolves with it once a JSON log line has `field`. */
async function started(
  bin: string,
  args: string[],
  env: Record<string, string>,
  field: string,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
  })
  for await (const text of createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as Record<string, unknown>
    if (line[field] !== undefined) return { child, line }
  }
  throw new Error(`${bin} ended before logging ${field}`)
}

describe('dbsnap-agent with a control plane and PostgreSQL', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess
  let base: string
  let token: string
  let projectBase: string
  let connectionId: string

  const api = async (method: string, path: string, body?: unknown, bearer = token) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-e2e-'))
    source = await createTestDatabase('dbsnap_it_agent')
    await source.client.query(
      'CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g',
    )
    const server = await started(
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
    const signedUp = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: 'correct horse battery staple' }),
    })
    token = ((await signedUp.json()) as { tokens: { accessToken: string } }).tokens.accessToken
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

    const agent = await started(agentBin, ['run'], env, 'healthPort')
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
