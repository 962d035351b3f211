// How fast the job queue hands out work: the built control plane (bin/dbsnap-control-plane.js)
// as its own process on SQLite and on PostgreSQL, a burst of snapshot jobs enqueued through the
// API, then 4 agents — lightweight loops of the agent's own ControlPlaneClient over real HTTP,
// no engine — leasing and reporting each job's result (a snapshot result the catalogue records)
// as fast as the service answers. Prints jobs leased per second and the lease and result
// latencies (p50/p99), and writes bench/results/queue-<stamp>.json.
// Run: node bench/queue-throughput.ts [--jobs 2000] [--agents 4] [--dialects sqlite,postgres]

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { ControlPlaneClient } from '@dbsnap/agent'
import { CP_BIN, UNLIMITED_RATES, databaseSettings } from './lib/control-plane.ts'
import { dropDatabase } from './lib/postgres.ts'
import { TMP, describeMachine, percentile, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'queue'
const DATABASE = 'dbsnap_bench_queue'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    agents: { type: 'string', default: '4' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
  },
})
const params = {
  jobs: Number(values.jobs),
  agents: Number(values.agents),
  dialects: values.dialects.split(',') as ('sqlite' | 'postgres')[],
}

interface Server {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [CP_BIN], {
    env: {
      ...process.env,
      ...env,
      DBSNAP_CP_HOST: '127.0.0.1',
      DBSNAP_CP_PORT: '0',
      DBSNAP_CP_OPEN_REGISTRATION: 'true',
      DBSNAP_CP_EMBEDDED_AGENT: 'false',
      ...UNLIMITED_RATES,
      // Long enough that no lease runs out while the machine is busy.
      DBSNAP_CP_JOB_LEASE_SECONDS: '300',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the control plane exited with ${code}`)))
    // Every line is read (request logs included), as a log collector would: the pipe never fills.
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { url?: string }
      if (entry.url !== undefined) resolve(entry.url)
    })
  })
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

async function call<T>(server: Server, path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** A user, an org, a project with one connection, and `params.agents` registered agents. */
async function fixture(server: Server) {
  const signedUp = await call<{ tokens: { accessToken: string } }>(
    server,
    '/api/v1/auth/register',
    {
      email: `bench-${randomBytes(4).toString('hex')}@example.com`,
      password: 'bench: correct horse battery staple',
    },
  )
  const token = signedUp.tokens.accessToken
  const org = await call<{ id: string }>(
    server,
    '/api/v1/orgs',
    { name: 'Bench', slug: `bench-${randomBytes(4).toString('hex')}` },
    token,
  )
  const project = await call<{ id: string }>(
    server,
    `/api/v1/orgs/${org.id}/projects`,
    { name: 'Queue', slug: 'queue' },
    token,
  )
  const base = `/api/v1/orgs/${org.id}/projects/${project.id}`
  const connection = await call<{ id: string }>(
    server,
    `${base}/connections`,
    { name: 'shop', url: 'postgres://app:pw@db.internal:5432/shop' },
    token,
  )
  const agents: ControlPlaneClient[] = []
  for (let i = 0; i < params.agents; i++) {
    const made = await call<{ registrationToken: string }>(
      server,
      `${base}/agents`,
      { name: `bench-${i}` },
      token,
    )
    const { credential } = await new ControlPlaneClient(server.url).register(
      made.registrationToken,
      { version: 'bench', hostname: `bench-${i}` },
    )
    agents.push(new ControlPlaneClient(server.url, credential))
  }
  return { token, triggerPath: `${base}/connections/${connection.id}/snapshots`, agents }
}

/** What an agent reports of a snapshot: a result the catalogue accepts. */
function snapshotResult(): unknown {
  const now = new Date().toISOString()
  return {
    id: randomBytes(16).toString('hex'),
    name: 'shop',
    repository: '/backups/shop',
    startedAt: now,
    finishedAt: now,
    durationMs: 1,
    tables: [{ table: 'public.orders', rows: 1 }],
    totals: {
      tables: 1,
      rows: 1,
      bytes: 100,
      chunks: 1,
      newObjects: 1,
      newBytes: 100,
      reusedChunks: 0,
    },
    warnings: [],
  }
}

interface Measured {
  jobs: number
  seconds: number
  leasedPerSecond: number
  leaseMs: { p50: number; p99: number; max: number }
  resultMs: { p50: number; p99: number; max: number }
  enqueuePerSecond: number
  loadAverageAfter: number
}

async function benchDialect(dialect: 'sqlite' | 'postgres'): Promise<Measured> {
  const dir = `${TMP}/${BENCH}-${dialect}`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const env = await databaseSettings(dialect, dir, DATABASE)
  const server = await startServer(env)
  try {
    const { token, triggerPath, agents } = await fixture(server)
    progress(`${dialect}: enqueueing ${params.jobs} snapshot jobs`)
    const enqueueStart = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < params.jobs) {
          next++
          await call(server, triggerPath, {}, token)
        }
      }),
    )
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000
    progress(`${dialect}: ${params.agents} agents leasing and reporting`)
    const leaseMs: number[] = []
    const resultMs: number[] = []
    const started = performance.now()
    await Promise.all(
      agents.map(async (agent) => {
        for (;;) {
          const t0 = performance.now()
          const leased = await agent.lease(0)
          leaseMs.push(performance.now() - t0)
          if (leased === undefined) return
          const t1 = performance.now()
          await agent.result(leased.job.id, leased.job.leaseId, snapshotResult())
          resultMs.push(performance.now() - t1)
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    leaseMs.sort((a, b) => a - b)
    resultMs.sort((a, b) => a - b)
    return {
      jobs: resultMs.length,
      seconds: round(seconds),
      leasedPerSecond: round(resultMs.length / seconds, 1),
      leaseMs: {
        p50: percentile(leaseMs, 50),
        p99: percentile(leaseMs, 99),
        max: percentile(leaseMs, 100),
      },
      resultMs: {
        p50: percentile(resultMs, 50),
        p99: percentile(resultMs, 99),
        max: percentile(resultMs, 100),
      },
      enqueuePerSecond: round(params.jobs / enqueueSeconds, 1),
      loadAverageAfter: round(loadavg()[0]!),
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
    if (dialect === 'postgres') await dropDatabase(DATABASE)
  }
}

const startedAt = new Date()
const machine = await describeMachine()
const results: Record<string, Measured> = {}
for (const dialect of params.dialects) results[dialect] = await benchDialect(dialect)
const summary = Object.entries(results).map(
  ([dialect, m]) =>
    `${dialect.padEnd(9)} ${m.jobs} jobs by ${params.agents} agents in ${m.seconds} s: ` +
    `${m.leasedPerSecond} leased/s  lease p50 ${m.leaseMs.p50} p99 ${m.leaseMs.p99} ms  ` +
    `result p50 ${m.resultMs.p50} p99 ${m.resultMs.p99} ms  (enqueue ${m.enqueuePerSecond}/s)`,
)
saveResults(BENCH, startedAt, { machine, params, results, summary })
