// dbsnap snapshot against pg_dump -Fc of the same database, in paired, interleaved runs: wall
// and CPU seconds of each process, and the ratio within each pair, with their spread.

import { rm, stat } from 'node:fs/promises'
import { snapshotSample } from './dbsnap.ts'
import { TMP, median, progress, round } from './results.ts'
import { run, withCpuSeconds } from './run.ts'

/** One timed run of one tool. */
export interface ToolSample {
  /** Wall seconds of the whole process (Node start-up included for dbsnap). */
  seconds: number
  /** User + system CPU seconds of the process, all its threads and children. */
  cpuSeconds: number
  /** Bytes it wrote: the dump file, or the whole repository. */
  bytes: number
}

/** Median and range of a measurement over the runs. */
export interface Spread {
  median: number
  min: number
  max: number
}

export interface VersusPgDump {
  runs: number
  samples: { dbsnap: ToolSample[]; pgDump: ToolSample[] }
  seconds: { dbsnap: Spread; pgDump: Spread }
  cpuSeconds: { dbsnap: Spread; pgDump: Spread }
  /** dbsnap / pg_dump within each pass (a pair ran back to back), then median and range. */
  ratios: { time: Spread; cpu: Spread; size: number }
  /** The snapshot's canonical bytes (uncompressed rows). */
  canonicalBytes: number
}

export function spread(values: number[], digits = 3): Spread {
  return {
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
  }
}

/** `median (min–max)`, for summaries. */
export function formatSpread(s: Spread, digits = 2): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
}

/**
 * Times `dbsnap snapshot` (into a fresh local repository) and `pg_dump -Fc -f` of `url`: an
 * untimed pass to warm the page cache and the compile cache, then `runs` passes of both, back
 * to back, the order swapped every pass so that neither always runs on the cooler machine.
 * `label` prefixes progress lines.
 */
export async function versusPgDump(
  url: string,
  options: { runs: number; label: string; extra?: string[] },
): Promise<VersusPgDump> {
  const repo = `${TMP}/${options.label}-repo`
  const dump = `${TMP}/${options.label}.dump`
  let canonicalBytes = NaN
  const dbsnap = async (): Promise<ToolSample> => {
    const { value, cpuSeconds } = await withCpuSeconds((wrapper) =>
      snapshotSample(url, repo, { wrapper, extra: options.extra }),
    )
    canonicalBytes = value.canonicalBytes
    return { seconds: value.seconds, cpuSeconds, bytes: value.bytes }
  }
  const pgDump = async (): Promise<ToolSample> => {
    await rm(dump, { force: true })
    const { value, cpuSeconds } = await withCpuSeconds(([command = '', ...args]) =>
      run(command, [...args, 'pg_dump', '-Fc', '-f', dump, '-d', url]),
    )
    const { size } = await stat(dump)
    await rm(dump, { force: true })
    return { seconds: value.seconds, cpuSeconds, bytes: size }
  }
  const samples: VersusPgDump['samples'] = { dbsnap: [], pgDump: [] }
  for (let pass = 0; pass <= options.runs; pass++) {
    const order: ('dbsnap' | 'pgDump')[] =
      pass % 2 === 0 ? ['pgDump', 'dbsnap'] : ['dbsnap', 'pgDump']
    for (const tool of order) {
      const sample = await (tool === 'dbsnap' ? dbsnap() : pgDump())
      const what = pass === 0 ? 'warm-up' : `run ${pass}/${options.runs}`
      progress(
        `${options.label} ${what} ${tool}: ${sample.seconds.toFixed(3)} s wall, ${sample.cpuSeconds.toFixed(2)} s CPU`,
      )
      if (pass > 0) samples[tool].push(sample)
    }
  }
  const pairs = (pick: (s: ToolSample) => number): number[] =>
    samples.dbsnap.map((s, i) => pick(s) / pick(samples.pgDump[i]!))
  return {
    runs: options.runs,
    samples,
    seconds: {
      dbsnap: spread(samples.dbsnap.map((s) => s.seconds)),
      pgDump: spread(samples.pgDump.map((s) => s.seconds)),
    },
    cpuSeconds: {
      dbsnap: spread(samples.dbsnap.map((s) => s.cpuSeconds)),
      pgDump: spread(samples.pgDump.map((s) => s.cpuSeconds)),
    },
    ratios: {
      time: spread(pairs((s) => s.seconds)),
      cpu: spread(pairs((s) => s.cpuSeconds)),
      size: round(samples.dbsnap[0]!.bytes / samples.pgDump[0]!.bytes, 3),
    },
    canonicalBytes,
  }
}

/** Summary lines of one comparison: wall, CPU, their ratios with spread, and sizes. */
export function summarizeVersus(label: string, v: VersusPgDump): string[] {
  return [
    `  ${label}: wall s dbsnap ${formatSpread(v.seconds.dbsnap, 3)}, pg_dump -Fc ${formatSpread(v.seconds.pgDump, 3)}; CPU s dbsnap ${formatSpread(v.cpuSeconds.dbsnap)}, pg_dump ${formatSpread(v.cpuSeconds.pgDump)}`,
    `  ${label}: snapshot/pg_dump wall ${formatSpread(v.ratios.time)}, CPU ${formatSpread(v.ratios.cpu)} (target <= 1.0); size ${v.ratios.size}`,
  ]
}
