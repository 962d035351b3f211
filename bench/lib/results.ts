// What every benchmark run leaves behind: one JSON file in bench/results/ (the directory is the
// history), recording the machine, versions and parameters, and a short summary on stdout.

import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { DBSNAP_VERSION } from '@dbsnap/engine'
import { psql } from './postgres.ts'
import { run } from './run.ts'
import { PG_URL, ROOT } from './services.ts'

export const MiB = 2 ** 20

/** Scratch space for repositories and dumps (git-ignored). */
export const TMP = `${ROOT}bench/tmp`

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  kernel: string
  node: string
  postgres: string
  pgDump: string
  dbsnap: string
  commit: string
  /** Whether packages/ had uncommitted changes: the numbers are then for work in progress. */
  packagesDirty: boolean
  /** 1-minute load average when the run started: above the CPU count, timings are suspect. */
  loadAverage: number
}

export async function describeMachine(): Promise<Machine> {
  const git = (args: string[]): Promise<string> =>
    run('git', ['-C', ROOT, ...args]).then((r) => r.stdout.trim())
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    postgres: await psql(PG_URL, 'SHOW server_version'),
    pgDump: (await run('pg_dump', ['--version'])).stdout.trim(),
    dbsnap: DBSNAP_VERSION,
    commit: await git(['rev-parse', '--short', 'HEAD']),
    packagesDirty: (await git(['status', '--porcelain', '--', 'packages'])) !== '',
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  }
}

/** `20261124T220351Z`: ISO 8601 basic format, safe in file names. */
function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** Writes bench/results/<bench>-<stamp>.json and prints the summary lines. */
export function saveResults(
  bench: string,
  startedAt: Date,
  record: { machine: Machine; params: unknown; results: unknown; summary: string[] },
): void {
  const dir = `${ROOT}bench/results`
  mkdirSync(dir, { recursive: true })
  const path = `${dir}/${bench}-${stamp(startedAt)}.json`
  const document = {
    bench,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ...record,
  }
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`)
  console.log(record.summary.join('\n'))
  console.log(`results: ${path.slice(ROOT.length)}`)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The `p`th percentile of ascending `sorted` (nearest rank), rounded; 0 when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!)
}

/** A number rounded to `digits` decimals, for JSON and messages. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** Prints a progress line on stderr (stdout carries the summary). */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`)
}
