// What the control plane's API costs: the built service (bin/dbsnap-control-plane.js) started as
// its own process on SQLite and on PostgreSQL, a signed-up user with an organisation, a project
// and ~20 connections, then autocannon against `GET …/connections` (a bearer access token and an
// API key) at a fixed rate and unthrottled, and login (argon2id) throughput.
// Run: node bench/control-plane-api.ts [--duration 20] [--rate 200] [--max-duration 10]
//        [--login-duration 10] [--connections 10] [--clients 50] [--dialects sqlite,postgres]
//        [--cpu-prof <dir>]

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { CP_BIN, UNLIMITED_RATES, databaseSettings } from './lib/control-plane.ts'
import { dropDatabase } from './lib/postgres.ts'
import { TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'control-plane'
const DATABASE = 'dbsnap_bench_control_plane'
const PASSWORD = 'bench: correct horse battery staple'
/** p99 target at the fixed rate (issue 14). */
const TARGET_P99_MS = 20

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rate: { type: 'string', default: '200' },
    'max-duration': { type: 'string', default: '10' },
    'login-duration': { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    /** Paced clients of one connection each, sharing --rate. */
    clients: { type: 'string', default: '50' },
    'connection-count': { type: 'string', default: '20' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    /** Write the server's CPU profile (node --cpu-prof) into this directory. */
    'cpu-prof': { type: 'string' },
  },
})
const params = {
  durationSeconds: Number(values.duration),
  rate: Number(values.rate),
  maxDurationSeconds: Number(values['max-duration']),
  loginDurationSeconds: Number(values['login-duration']),
  connections: Number(values.connections),
  pacedClients: Number(values.clients),
  connectionCount: Number(values['connection-count']),
  dialects: values.dialects.split(',') as ('sqlite' | 'postgres')[],
}

interface Server {
  url: string
  child: ChildProcess
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number
  stop(): Promise<void>
}

/** Starts the built service on a free port and waits for its "listening on" log line. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const profile =
    values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']]
  const child = spawn(process.execPath, [...profile, CP_BIN], {
    env: {
      ...process.env,
      ...env,
      DBSNAP_CP_HOST: '127.0.0.1',
      DBSNAP_CP_PORT: '0',
      DBSNAP_CP_OPEN_REGISTRATION: 'true',
      DBSNAP_CP_EMBEDDED_AGENT: 'false',
      ...UNLIMITED_RATES,
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
  const ticks = 100 // USER_HZ on Linux
  return {
    url,
    child,
    cpuSeconds() {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      return (Number(fields[11]) + Number(fields[12])) / ticks
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** A JSON request to the service; throws on a status other than `expected`. */
async function call<T>(
  server: Server,
  method: string,
  path: string,
  body: unknown,
  token?: string,
  expected = 201,
): Promise<T> {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  })
  if (res.status !== expected) {
    throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  }
  return (await res.json()) as T
}

interface Fixture {
  email: string
  accessToken: string
  apiKey: string
  listPath: string
}

/** Signs up, creates an org, a project, its connections and a read-only API key. */
async function createFixture(server: Server): Promise<Fixture> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`
  const signedUp = await call<{ tokens: { accessToken: string } }>(
    server,
    'POST',
    '/api/v1/auth/register',
    { email, password: PASSWORD },
  )
  const token = signedUp.tokens.accessToken
  const org = await call<{ id: string }>(
    server,
    'POST',
    '/api/v1/orgs',
    { name: 'Bench', slug: 'bench' },
    token,
  )
  const project = await call<{ id: string }>(
    server,
    'POST',
    `/api/v1/orgs/${org.id}/projects`,
    { name: 'Shop', slug: 'shop' },
    token,
  )
  const listPath = `/api/v1/orgs/${org.id}/projects/${project.id}/connections`
  for (let i = 0; i < params.connectionCount; i++) {
    const body =
      i % 2 === 0
        ? {
            name: `db-${i}`,
            url: `postgres://app:s3cret-${i}@db-${i}.internal:5432/shop?sslmode=require`,
          }
        : { name: `db-${i}`, engine: 'mysql', ref: `env:DB_${i}_URL` }
    await call(server, 'POST', listPath, body, token)
  }
  const key = await call<{ secret: string }>(
    server,
    'POST',
    `/api/v1/orgs/${org.id}/keys`,
    { name: 'bench', scopes: ['connections:read'], projectId: project.id },
    token,
  )
  const listed = await call<{ connections: unknown[] }>(
    server,
    'GET',
    listPath,
    undefined,
    key.secret,
    200,
  )
  if (listed.connections.length !== params.connectionCount) {
    throw new Error(`listed ${listed.connections.length} connections`)
  }
  return { email, accessToken: token, apiKey: key.secret, listPath }
}

interface Measured {
  requestsPerSecond: number
  requests: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  errors: number
  timeouts: number
  non2xx: number
  serverCpuSeconds: number
  /** CPU of this process (autocannon), which competes with the server for the same cores. */
  clientCpuSeconds: number
  loadAverageAfter: number
}

const cpuSeconds = ({ user, system }: NodeJS.CpuUsage): number => (user + system) / 1e6

interface RunOptions {
  path: string
  seconds: number
  method?: 'GET' | 'POST'
  token?: string
  body?: unknown
}

function requestOptions(server: Server, options: RunOptions) {
  return {
    url: new URL(options.path, server.url).href,
    method: options.method ?? 'GET',
    duration: options.seconds,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  } as const
}

/**
 * `rate` requests a second, spread over the second: `--clients` autocannon clients of one
 * connection and rate/clients requests a second each, started 1/clients s apart, their results
 * merged. autocannon's own `overallRate` sends every connection's share of a second back to
 * back when the second begins (a burst of `rate` requests, then silence), and its correction
 * for coordinated omission assumes 1 ms between requests; both inflate the percentiles
 * (`pace: 'burst'` measures that). Each paced client still sends its few requests one after
 * another, so this is not perfectly even either.
 */
async function runPaced(
  server: Server,
  options: RunOptions,
  rate: number,
): Promise<autocannon.Result> {
  const clients = Math.min(params.pacedClients, rate)
  const runs: Promise<autocannon.Result>[] = []
  for (let i = 0; i < clients; i++) {
    runs.push(
      autocannon({
        ...requestOptions(server, options),
        connections: 1,
        connectionRate: Math.round(rate / clients),
        ignoreCoordinatedOmission: true,
        skipAggregateResult: true,
      }),
    )
    await sleep(1000 / clients)
  }
  const merge = (autocannon as unknown as { aggregateResult: AggregateResult }).aggregateResult
  return merge(await Promise.all(runs), {
    url: requestOptions(server, options).url,
    connections: clients,
  })
}

type AggregateResult = (
  results: autocannon.Result[],
  options: { url: string; connections: number },
) => autocannon.Result

/**
 * One measured run: `pace` 'even' (rate requests a second, evenly spaced), 'burst' (autocannon's
 * `overallRate`) or 'max' (as fast as the service answers, `--connections` connections).
 */
async function measure(
  server: Server,
  label: string,
  options: RunOptions & { pace: 'even' | 'burst' | 'max' },
): Promise<Measured> {
  progress(
    `${label}: ${options.seconds} s${options.pace === 'max' ? '' : ` at ${params.rate} req/s`}`,
  )
  const cpuBefore = server.cpuSeconds()
  const clientBefore = process.cpuUsage()
  const result =
    options.pace === 'even'
      ? await runPaced(server, options, params.rate)
      : await autocannon({
          ...requestOptions(server, options),
          connections: params.connections,
          ...(options.pace === 'burst' ? { overallRate: params.rate } : {}),
        })
  const { latency } = result
  return {
    requestsPerSecond: round(result.requests.total / (result.duration || options.seconds), 1),
    requests: result.requests.total,
    latencyMs: {
      p50: latency.p50,
      p90: latency.p90,
      p99: latency.p99,
      max: latency.max,
      mean: round(latency.mean),
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    serverCpuSeconds: round(server.cpuSeconds() - cpuBefore),
    clientCpuSeconds: round(cpuSeconds(process.cpuUsage(clientBefore))),
    loadAverageAfter: round(loadavg()[0]!),
  }
}

async function benchDialect(dialect: 'sqlite' | 'postgres'): Promise<Record<string, Measured>> {
  const dir = `${TMP}/${BENCH}-${dialect}`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const env = await databaseSettings(dialect, dir, DATABASE)
  const server = await startServer(env)
  try {
    const fixture = await createFixture(server)
    const list = { path: fixture.listPath }
    const token = fixture.accessToken
    const key = fixture.apiKey
    const fixed = params.durationSeconds
    const max = params.maxDurationSeconds
    // Warm-up (JIT, caches, the pool's connections), not recorded.
    await measure(server, `${dialect} warm-up`, { ...list, seconds: 3, token, pace: 'max' })
    const runs: Record<string, Measured> = {
      listEvenToken: await measure(server, `${dialect} list, access token, even`, {
        ...list,
        seconds: fixed,
        token,
        pace: 'even',
      }),
      listEvenApiKey: await measure(server, `${dialect} list, API key, even`, {
        ...list,
        seconds: fixed,
        token: key,
        pace: 'even',
      }),
      listBurstToken: await measure(server, `${dialect} list, access token, overallRate`, {
        ...list,
        seconds: max,
        token,
        pace: 'burst',
      }),
      listMaxToken: await measure(server, `${dialect} list, access token, unthrottled`, {
        ...list,
        seconds: max,
        token,
        pace: 'max',
      }),
      listMaxApiKey: await measure(server, `${dialect} list, API key, unthrottled`, {
        ...list,
        seconds: max,
        token: key,
        pace: 'max',
      }),
      loginMax: await measure(server, `${dialect} login, unthrottled`, {
        path: '/api/v1/auth/login',
        method: 'POST',
        seconds: params.loginDurationSeconds,
        body: { email: fixture.email, password: PASSWORD },
        pace: 'max',
      }),
    }
    return runs
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
    if (dialect === 'postgres') await dropDatabase(DATABASE)
  }
}

function summaryLines(dialect: string, runs: Record<string, Measured>): string[] {
  const line = (name: string, m: Measured, target: boolean): string => {
    const ok = m.latencyMs.p99 < TARGET_P99_MS && m.errors + m.non2xx + m.timeouts === 0
    const verdict = target
      ? ok
        ? '  ok'
        : `  MISSED (target p99 < ${TARGET_P99_MS} ms, no errors)`
      : ''
    return (
      `  ${name.padEnd(34)} ${String(m.requestsPerSecond).padStart(7)} req/s  ` +
      `p50 ${m.latencyMs.p50} p90 ${m.latencyMs.p90} p99 ${m.latencyMs.p99} max ${m.latencyMs.max} ms  ` +
      `errors ${m.errors + m.timeouts} non-2xx ${m.non2xx}  CPU server ${m.serverCpuSeconds} s client ${m.clientCpuSeconds} s${verdict}`
    )
  }
  return [
    `${dialect}:`,
    line(`list at ${params.rate}/s even, access token`, runs.listEvenToken!, true),
    line(`list at ${params.rate}/s even, API key`, runs.listEvenApiKey!, true),
    line(`list at ${params.rate}/s overallRate, token`, runs.listBurstToken!, false),
    line('list unthrottled, access token', runs.listMaxToken!, false),
    line('list unthrottled, API key', runs.listMaxApiKey!, false),
    line('login (argon2id) unthrottled', runs.loginMax!, false),
  ]
}

const startedAt = new Date()
const machine = await describeMachine()
const results: Record<string, Record<string, Measured>> = {}
for (const dialect of params.dialects) results[dialect] = await benchDialect(dialect)
saveResults(BENCH, startedAt, {
  machine,
  params: { ...params, targetP99Ms: TARGET_P99_MS, cpuProfile: values['cpu-prof'] !== undefined },
  results,
  summary: [
    `control plane API, ${params.connectionCount} connections listed, ${params.connections} client connections, load average at start ${machine.loadAverage}`,
    ...Object.entries(results).flatMap(([dialect, runs]) => summaryLines(dialect, runs)),
  ],
})
