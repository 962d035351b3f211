// Runs the built `dbsnap` binary the way a user does, for end-to-end tests.

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../packages/cli/bin/run.js', import.meta.url))

/**
 * Node's arguments that start `dbsnap ...args` as its shebang does (`env -S node <flags>`), with
 * this Node: the flags are read from the binary, so tests run what users run.
 */
export function cliArgs(args: string[]): string[] {
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? ''
  const flags = /^#!\/usr\/bin\/env -S node((?:\s+--\S+)*)\s*$/.exec(shebang)
  if (flags === null) throw new Error(`unexpected shebang in ${bin}: ${shebang}`)
  return [...(flags[1]?.trim().split(/\s+/).filter(Boolean) ?? []), bin, ...args]
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `dbsnap ...args`; never rejects on a non-zero exit (tests assert on `code`). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      cliArgs(args),
      {
        env: { ...process.env, NO_COLOR: '1', ...env },
        timeout: 60_000,
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`could not run dbsnap: ${error.message}`, { cause: error }))
          return
        }
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
      },
    )
  })
}

/** Parses the single JSON document a `--json` run printed on stdout. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout) as T
}
