// Starts the built control plane as a real process (bin/dbsnap-control-plane.js) on a free port
// with a throwaway SQLite database, for the browser tests to drive. Its embedded agent runs the
// jobs the tests ask for, into a repository in the same throwaway directory.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const BIN = join(import.meta.dirname, '../../bin/dbsnap-control-plane.js')

export interface ControlPlane {
  url: string
  /** Everything the process wrote (JSON log lines). */
  output(): string
  /** The first-run link the service logs when it has no account yet. */
  setupUrl(): Promise<string>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the control plane exited with ${child.exitCode}:\n${output()}`)
    }
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    )
    if (ready) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the control plane did not get ready in 15 s:\n${output()}`)
}

export async function startControlPlane(
  options: { openRegistration?: boolean } = {},
): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'dbsnap-web-e2e-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let output = ''
  const child = spawn(process.execPath, [BIN], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${join(dir, 'control-plane.sqlite')}`,
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repository'),
      DBSNAP_CP_HOST: '127.0.0.1',
      DBSNAP_CP_PORT: String(port),
      DBSNAP_CP_OPEN_REGISTRATION: options.openRegistration === true ? 'true' : 'false',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    await waitUntilReady(url, child, () => output)
  } catch (error) {
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url,
    output: () => output,
    setupUrl: async () => {
      const deadline = Date.now() + 5_000
      while (Date.now() < deadline) {
        const match = /"setupUrl":"([^"]+)"/.exec(output)
        if (match?.[1] !== undefined) return match[1]
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`no setup link in the log:\n${output}`)
    },
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
