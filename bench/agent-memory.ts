// The agent's memory: RSS of a real `dbsnap-agent run` process while it idles (long-polling the
// control plane) and while it takes a snapshot of a generated table (2 GiB by default) for the
// control plane. Each job runs on a worker thread of the agent's process, so the process's RSS is
// all of it; the peak is the kernel's VmHWM, exact rather than sampled. The same snapshot taken by
// the CLI (GNU time %M) is measured beside it, as the reference.
// Run: node bench/agent-memory.ts [--size-mib 2048] [--idle-seconds 20]

import { execFile, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs, promisify } from 'node:util'
import { removeRepository } from './lib/dbsnap.ts'
import { postgresDataDirectory, requireFreeSpace } from './lib/disk.ts'
import { generateTable } from './lib/generate.ts'
import { dbsnapPeakRss } from './lib/peak-rss.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'
import { ROOT } from './lib/services.ts'
import { startLogging } from '../test/processes.ts'
import { CP_BIN, benchProject } from './lib/control-plane.ts'

const BENCH = 'agent-memory'
const DATABASE = 'dbsnap_bench_agent_memory'
const TABLE = 'bench_rows'
const AGENT_BIN = `${ROOT}packages/agent/bin/dbsnap-agent.js`

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '2048' },
    'idle-seconds': { type: 'string', default: '20' },
  },
})
const sizeMiB = Number(values['size-mib'])
const idleSeconds = Number(values['idle-seconds'])

/** The process's resident and peak resident memory, in MiB, from /proc. */
function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)![1])
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 }
}

interface Samples {
  meanMiB: number
  maxMiB: number
}

/** Samples the RSS of `pid` every 100 ms until `until` resolves. */
async function sampleWhile<T>(pid: number, until: Promise<T>): Promise<{ value: T; rss: Samples }> {
  const seen: number[] = []
  let done = false
  const result = until.finally(() => {
    done = true
  })
  while (!done) {
    seen.push(memoryOf(pid).rssMiB)
    await Promise.race([sleep(100), result.catch(() => undefined)])
  }
  const value = await result
  return {
    value,
    rss: {
      meanMiB: round(seen.reduce((a, b) => a + b, 0) / Math.max(1, seen.length), 1),
      maxMiB: round(Math.max(...seen), 1),
    },
  }
}

const startedAt = new Date()
mkdirSync(TMP, { recursive: true })
const dir = `${TMP}/${BENCH}-${process.pid}`
mkdirSync(dir, { recursive: true })
const repo = `${dir}/repo`
const cliRepo = `${dir}/cli-repo`
const pgData = await postgresDataDirectory()
requireFreeSpace([
  { what: 'two repositories', path: TMP, bytes: 2 * sizeMiB * MiB },
  ...(pgData === null ? [] : [{ what: 'the table', path: pgData, bytes: 1.3 * sizeMiB * MiB }]),
])

const processes: ChildProcess[] = []
const url = await createDatabase(DATABASE)
try {
  const table = await generateTable(url, TABLE, { targetBytes: sizeMiB * MiB })
  progress(
    `table: ${table.rows.toLocaleString('en-US')} rows, ${(table.heapBytes / MiB).toFixed(0)} MiB`,
  )

  const cp = await startLogging(
    CP_BIN,
    [],
    {
      DATABASE_URL: `sqlite:${dir}/cp.sqlite`,
      DBSNAP_CP_PORT: '0',
      DBSNAP_CP_OPEN_REGISTRATION: 'true',
      DBSNAP_CP_EMBEDDED_AGENT: 'false',
    },
    'port',
  )
  processes.push(cp.child)
  // Keep reading its log, so a full pipe never blocks it.
  cp.child.stdout!.resume()
  const base = `http://127.0.0.1:${cp.line['port'] as number}`
  const { call, projectPath, connectionId } = await benchProject(
    base,
    { name: 'Memory', slug: 'memory' },
    { name: 'bench', url },
  )
  const agent = await call('POST', `${projectPath}/agents`, { name: 'bench' })
  const agentEnv = {
    DBSNAP_AGENT_STATE_DIR: `${dir}/agent`,
    DBSNAP_AGENT_REPOSITORY: repo,
    DBSNAP_AGENT_HEALTH_PORT: '0',
  }
  await promisify(execFile)(
    process.execPath,
    [AGENT_BIN, 'register', '--url', base, '--token', agent['registrationToken'] as string],
    { env: { ...process.env, ...agentEnv } },
  )
  const running = await startLogging(AGENT_BIN, ['run'], agentEnv, 'healthPort')
  processes.push(running.child)
  running.child.stdout!.resume()
  const pid = running.child.pid!

  progress(`agent idle for ${idleSeconds} s`)
  const idle = await sampleWhile(pid, sleep(idleSeconds * 1000))
  const idleHwm = memoryOf(pid).hwmMiB
  progress(`  idle RSS mean ${idle.rss.meanMiB} MiB, max ${idle.rss.maxMiB} MiB`)

  progress('agent snapshot')
  const job = await call('POST', `${projectPath}/connections/${connectionId}/snapshots`)
  const began = Date.now()
  const finished = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      await sleep(500)
      const seen = await call('GET', `${projectPath}/jobs/${job['id'] as string}`)
      if (['succeeded', 'failed', 'dead', 'cancelled'].includes(seen['state'] as string))
        return seen
    }
  }
  const during = await sampleWhile(pid, finished())
  const seconds = (Date.now() - began) / 1000
  if (during.value['state'] !== 'succeeded') {
    throw new Error(
      `the snapshot job ended ${during.value['state'] as string}: ${JSON.stringify(during.value['error'])}`,
    )
  }
  const peakMiB = memoryOf(pid).hwmMiB
  progress(
    `  snapshot in ${seconds.toFixed(1)} s, RSS mean ${during.rss.meanMiB} MiB, peak ${peakMiB.toFixed(0)} MiB`,
  )
  const after = await sampleWhile(pid, sleep(5_000))
  progress(`  5 s after: RSS mean ${after.rss.meanMiB} MiB`)

  progress('the same snapshot with the CLI')
  const cli = await dbsnapPeakRss(['snapshot', url, '--repo', cliRepo, '--json'])
  progress(`  CLI peak RSS ${cli.peakRssMiB.toFixed(0)} MiB in ${cli.seconds.toFixed(1)} s`)

  const results = {
    table: { rows: table.rows, heapMiB: round(table.heapBytes / MiB, 0) },
    idle: { seconds: idleSeconds, ...idle.rss, peakMiB: round(idleHwm, 1) },
    snapshot: {
      seconds: round(seconds, 1),
      ...during.rss,
      peakMiB: round(peakMiB, 1),
      result: during.value['result'],
    },
    afterSnapshot: after.rss,
    cli: { seconds: round(cli.seconds, 1), peakRssMiB: round(cli.peakRssMiB, 1) },
  }
  saveResults(BENCH, startedAt, {
    machine: await describeMachine(),
    params: { sizeMiB, idleSeconds },
    results,
    summary: [
      `agent memory, ${(table.heapBytes / MiB).toFixed(0)} MiB table (${table.rows.toLocaleString('en-US')} rows):`,
      `  idle ${idleSeconds} s:      RSS mean ${idle.rss.meanMiB} MiB, max ${idle.rss.maxMiB} MiB`,
      `  during snapshot:  RSS mean ${during.rss.meanMiB} MiB, peak ${peakMiB.toFixed(0)} MiB (${seconds.toFixed(1)} s)`,
      `  after:            RSS mean ${after.rss.meanMiB} MiB`,
      `  CLI, same table:  peak ${cli.peakRssMiB.toFixed(0)} MiB (${cli.seconds.toFixed(1)} s)`,
    ],
  })
} finally {
  for (const child of processes) child.kill('SIGTERM')
  await dropDatabase(DATABASE)
  await removeRepository(cliRepo, {})
  await rm(dir, { recursive: true, force: true })
}
