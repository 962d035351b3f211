// Runs the tools the benchmarks compare (dbsnap, pg_dump, psql) as subprocesses, the way a user
// runs them, and times them by wall clock.

import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'

export interface RunOptions {
  /** Variables added to the inherited environment. */
  env?: NodeJS.ProcessEnv
  /** `ignore` sends stdout to /dev/null, as `> /dev/null` does. Default: captured. */
  stdout?: 'pipe' | 'ignore'
}

export interface RunResult {
  stdout: string
  stderr: string
  seconds: number
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000
      const stderr = Buffer.concat(err).toString('utf8')
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, seconds })
      } else {
        const line = `${command} ${args.join(' ')}`.replace(/\s+/g, ' ')
        const shown = line.length > 160 ? `${line.slice(0, 160)}…` : line
        reject(new Error(`${shown} exited with ${code}: ${stderr.trim()}`))
      }
    })
  })
}
