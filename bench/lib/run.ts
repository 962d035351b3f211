// Runs the tools the benchmarks compare (dbsnap, pg_dump, psql) as subprocesses, the way a user
// runs them, and times them by wall clock.

import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

/** GNU time: reports a finished child's rusage (CPU seconds, peak RSS), which Node cannot. */
export const GNU_TIME = '/usr/bin/time'

let cpuRuns = 0

/**
 * Runs `measure` with a wrapper argv (`/usr/bin/time -f '%U %S' -o <file>`) to put in front of
 * the command it runs, and returns its value with the CPU seconds (user + system) that command
 * used, its own and its children's and threads'. Throws when GNU time is not installed.
 */
export async function withCpuSeconds<T>(
  measure: (wrapper: string[]) => Promise<T>,
): Promise<{ value: T; cpuSeconds: number }> {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} (GNU time) is needed to measure CPU time: apt-get install time`)
  }
  const out = `${tmpdir()}/dbsnap-bench-cpu-${process.pid}-${cpuRuns++}.txt`
  try {
    const value = await measure([GNU_TIME, '-f', '%U %S', '-o', out])
    const [user = NaN, system = NaN] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ')
      .map(Number)
    return { value, cpuSeconds: user + system }
  } finally {
    rmSync(out, { force: true })
  }
}
