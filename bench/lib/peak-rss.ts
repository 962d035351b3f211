// Peak RSS of any `dbsnap` command (snapshot, diff, verify, restore, export), run as a user runs
// it under GNU time: `%M` is the process's ru_maxrss, exact rather than sampled.

import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { cliArgs } from './dbsnap.ts'
import { TMP } from './results.ts'
import { GNU_TIME, run } from './run.ts'

export interface PeakRssRun {
  /** The command's stdout (empty when it was sent to /dev/null). */
  stdout: string
  /** Wall time of the whole process, Node start-up included. */
  seconds: number
  peakRssMiB: number
}

/**
 * Runs `dbsnap <args>` under GNU time and returns its peak RSS. The CLI is one Node process
 * (bin/run.js spawns nothing), so `%M` is all of dbsnap. `stdout: 'ignore'` keeps a large output
 * (a diff) out of the bench's own memory.
 */
export async function dbsnapPeakRss(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdout?: 'pipe' | 'ignore' } = {},
): Promise<PeakRssRun> {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} (GNU time) is needed to measure peak RSS: apt-get install time`)
  }
  const out = `${TMP}/peak-rss-${process.pid}.txt`
  const { stdout, seconds } = await run(
    GNU_TIME,
    ['-f', '%M', '-o', out, process.execPath, ...cliArgs(args)],
    options,
  )
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1))
  await rm(out, { force: true })
  return { stdout, seconds, peakRssMiB: kib / 1024 }
}
