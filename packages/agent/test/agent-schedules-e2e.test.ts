// Schedules end to end, the way issue 15 states it: a real control plane process, two real
// `dbsnap-agent` processes, PostgreSQL and a MinIO repository. A schedule every few seconds
// fills the catalogue; one agent is killed with SIGKILL in the middle of a job and the other
// finishes it; the control plane is stopped and the surviving agent keeps taking the scheduled
// snapshots, keeping the reports in its outbox; the control plane is restarted and the outbox
// delivers them, in order, once; the retention policy leaves what it says, in the repository
// and in the catalogue alike; and `dbsnap verify` finds the repository clean.

import { execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { closedPort } from '../../../test/net.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'
import { testServices } from '../../../test/services.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const exec = promisify(execFile)
const LEASE_SECONDS = 4
const KEEP_LAST = 2

type Json = Record<string, unknown>

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

describe('schedules with two agents, a crash and a control plane outage', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess | undefined
  let base: string
  let token: string
  let projectBase: string
  let connectionId: string
  let repo: string
  let s3env: Record<string, string>
  let cpEnv: Record<string, string>
  const agents = new Map<
    string,
    {
      child: ChildProcess
      id: string
      stateDir: string
      env: Record<string, string>
      log: string[]
    }
  >()

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)
  const startCp = async () => {
    cp = (await startLogging(cpBin, [], cpEnv, 'port')).child
  }
  const startAgent = async (name: string) => {
    const made = await api('POST', `${projectBase}/agents`, { name })
    const stateDir = join(dir, name)
    const env = {
      ...s3env,
      DBSNAP_AGENT_STATE_DIR: stateDir,
      DBSNAP_AGENT_REPOSITORY: repo,
      DBSNAP_AGENT_HEALTH_PORT: '0',
      DBSNAP_AGENT_CONCURRENCY: '2',
      DBSNAP_AGENT_SCHEDULE_POLL_SECONDS: '1',
    }
    await exec(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    agents.set(name, {
      ...(await run(env)),
      id: (made['agent'] as Json)['id'] as string,
      stateDir,
      env,
    })
  }
  /** Starts `dbsnap-agent run`, keeping its log (and never letting its pipe fill). */
  const run = async (env: Record<string, string>) => {
    const { child } = await startLogging(agentBin, ['run'], env, 'healthPort')
    const log: string[] = []
    child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()))
    return { child, log }
  }
  const catalogue = async () =>
    ((await api('GET', `${projectBase}/snapshots?limit=200`))['snapshots'] as Json[]).map(
      (s) => s['id'] as string,
    )
  const jobs = async (query = '') =>
    (await api('GET', `${projectBase}/jobs?limit=200${query}`))['jobs'] as Json[]
  const outbox = async (name: string) => {
    const folder = join(agents.get(name)!.stateDir, 'outbox')
    const names = (await readdir(folder).catch(() => [])).filter((n) => n.endsWith('.json'))
    return Promise.all(
      names.sort().map(async (n) => JSON.parse(await readFile(join(folder, n), 'utf8')) as Json),
    )
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-schedules-'))
    const { s3 } = testServices()
    repo = `s3://${s3.bucket}/it-schedules-${process.pid}-${randomBytes(3).toString('hex')}`
    s3env = {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
    }
    source = await createTestDatabase('dbsnap_it_agent_schedules')
    await source.client.query(
      "CREATE TABLE events (id int PRIMARY KEY, body text); INSERT INTO events SELECT g, repeat('x', 50) FROM generate_series(1, 30000) g",
    )
    const port = await closedPort()
    cpEnv = {
      DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
      DBSNAP_CP_PORT: String(port),
      DBSNAP_CP_OPEN_REGISTRATION: 'true',
      DBSNAP_CP_EMBEDDED_AGENT: 'false',
      DBSNAP_CP_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    }
    await startCp()
    base = `http://127.0.0.1:${port}`
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
    await startAgent('first')
    await startAgent('second')
  }, 60_000)

  afterAll(async () => {
    for (const { child } of agents.values()) child.kill('SIGKILL')
    cp?.kill('SIGTERM')
    await source?.drop()
    await runCli(['forget', '--repo', repo, '--keep-last', '0', '--prune', '--grace', '0s'], s3env)
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps the schedule going through a crash and an outage, and retention stays true', async () => {
    const started = Date.now()
    // 1. A schedule every 4 seconds, keeping the last two snapshots.
    const schedulePath = `${projectBase}/connections/${connectionId}/schedules`
    const schedule = await api('POST', schedulePath, {
      cron: '*/4 * * * * *',
      timezone: 'Europe/Paris',
      retention: { keepLast: KEEP_LAST },
    })
    expect(schedule).toMatchObject({ enabled: true, timezone: 'Europe/Paris' })
    await until('two scheduled snapshots with their retention', async () => {
      const done = (await jobs('&state=succeeded')).filter((j) =>
        String(j['createdBy']).startsWith('schedule:'),
      )
      const kinds = done.map((j) => j['kind'])
      return kinds.filter((k) => k === 'snapshot').length >= 2 &&
        kinds.includes('retention') &&
        (await catalogue()).length >= 1
        ? true
        : undefined
    })
    // One job per tick although both agents asked for each.
    const ticks = (await jobs('&kind=snapshot')).map(
      (j) => ((j['spec'] as Json)['tags'] as Json)['scheduledAt'],
    )
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    expect(new Set(ticks).size).toBe(ticks.length)

    // 2. A slow snapshot; the agent running it is killed; the other one finishes it.
    const slow = await api('POST', `${projectBase}/connections/${connectionId}/snapshots`, {
      maxRowsPerSecond: 5_000,
    })
    const slowPath = `${projectBase}/jobs/${slow['id'] as string}`
    const running = await until('the slow job under way', async () => {
      const seen = await api('GET', slowPath)
      return seen['state'] === 'running' && seen['progress'] !== null ? seen : undefined
    })
    const [victim] = [...agents.entries()].find(([, a]) => a.id === running['agentId'])!
    agents.get(victim)!.child.kill('SIGKILL')
    const survivor = victim === 'first' ? 'second' : 'first'
    const finished = await until('the slow job finished by the other agent', async () => {
      const seen = await api('GET', slowPath)
      return ['succeeded', 'failed', 'dead'].includes(seen['state'] as string) ? seen : undefined
    })
    expect(finished, JSON.stringify(finished)).toMatchObject({
      state: 'succeeded',
      agentId: agents.get(survivor)!.id,
    })

    // 3. The control plane stops; the survivor keeps snapshotting on schedule, on its own.
    const exited = new Promise((resolve) => cp!.once('exit', resolve))
    cp!.kill('SIGTERM')
    await exited
    const kept = await until('a local scheduled snapshot in the outbox', async () => {
      const entries = await outbox(survivor)
      const local = entries.filter(
        (e) => e['type'] === 'local' && (e['report'] as Json)['kind'] === 'snapshot',
      )
      return local.length >= 1 ? entries : undefined
    })
    // The survivor is killed too, misses a tick or two, and comes back: its outbox is intact, and
    // the missed ticks give one catch-up run.
    const { child, env } = agents.get(survivor)!
    const killed = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await killed
    expect((await outbox(survivor)).length).toBeGreaterThanOrEqual(kept.length)
    await sleep(6_000)
    Object.assign(agents.get(survivor)!, await run(env))
    const restarted = agents.get(survivor)!
    await until('the catch-up run', () =>
      Promise.resolve(restarted.log.join('').includes('one catch-up run') ? true : undefined),
    )
    const catchUps = restarted.log
      .join('')
      .split('\n')
      .filter((line) => line.includes('one catch-up run'))
    expect(catchUps).toHaveLength(1)
    expect((JSON.parse(catchUps[0]!) as { missed: number }).missed).toBeGreaterThanOrEqual(1)
    const beforeRestart = (await outbox(survivor)).length
    await until('the catch-up snapshot in the outbox', async () =>
      (await outbox(survivor)).length > beforeRestart ? true : undefined,
    )
    const localSnapshots = (await outbox(survivor))
      .filter((e) => e['type'] === 'local' && (e['report'] as Json)['kind'] === 'snapshot')
      .map((e) => ((e['report'] as Json)['result'] as Json)['id'] as string)

    // 4. The control plane comes back; the outbox delivers everything, once.
    await startCp()
    await until('an empty outbox', async () =>
      (await outbox(survivor)).length === 0 ? true : undefined,
    )
    const afterOutage = await jobs('&kind=snapshot')
    // Delivered in the order they were taken: the jobs were created in that order.
    const createdAt = localSnapshots.map(
      (id) => afterOutage.find((j) => (j['result'] as Json | null)?.['id'] === id)?.['createdAt'],
    )
    expect(createdAt).toEqual([...createdAt].sort())
    for (const id of localSnapshots) {
      const recorded = afterOutage.filter((j) => (j['result'] as Json | null)?.['id'] === id)
      expect(recorded, id).toHaveLength(1)
      expect(recorded[0]).toMatchObject({
        state: 'succeeded',
        agentId: agents.get(survivor)!.id,
        createdBy: `schedule:${schedule['id'] as string}`,
      })
    }

    // 5. The schedule stops; once the queue is quiet, retention has left the last two, and the
    // catalogue says what the repository holds.
    await api('PATCH', `${schedulePath}/${schedule['id'] as string}`, { enabled: false })
    await sleep(1_000)
    await until(
      'a quiet queue',
      async () => {
        const live = [...(await jobs('&state=pending')), ...(await jobs('&state=running'))]
        return live.length === 0 ? true : undefined
      },
      45_000,
    )
    // The catalogue may still hold snapshots a local retention forgot if the agent was killed
    // between that forget and its report; the next retention the control plane hands out lists
    // the repository, and the catalogue drops what it no longer holds.
    const staleBefore = (await catalogue()).length
    const retention = await api('POST', `${projectBase}/connections/${connectionId}/retention`, {
      policy: { keepLast: KEEP_LAST },
    })
    const retained = await until('a retention run now', async () => {
      const seen = await api('GET', `${projectBase}/jobs/${retention['id'] as string}`)
      return ['succeeded', 'failed', 'dead'].includes(seen['state'] as string) ? seen : undefined
    })
    expect(retained, JSON.stringify(retained)).toMatchObject({ state: 'succeeded' })
    const listed = await runCli(['snapshots', '--repo', repo, '--json'], s3env)
    expect(listed.code, listed.stderr).toBe(0)
    const inRepo = (json<{ snapshots: { id: string }[] }>(listed).snapshots ?? []).map((s) => s.id)
    expect(inRepo).toHaveLength(KEEP_LAST)
    expect((await catalogue()).sort()).toEqual([...inRepo].sort())
    console.info(`catalogue before the last retention: ${staleBefore}, after: ${KEEP_LAST}`)
    const dead = await jobs('&state=dead')
    expect(dead, JSON.stringify(dead)).toEqual([])

    const verified = await runCli(['verify', '--all', '--repo', repo, '--json'], s3env)
    expect(verified.code, verified.stderr).toBe(0)
    expect(json(verified)).toMatchObject({ problems: [] })
    console.log(`schedules e2e took ${Date.now() - started} ms`)
  }, 150_000)
})
