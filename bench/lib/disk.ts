// Free-space checks before a benchmark writes gigabytes: it refuses politely rather than fill a
// disk. Needs on the same filesystem (PostgreSQL's data and bench/tmp, often) add up.

import { existsSync, statSync, statfsSync } from 'node:fs'
import { psql } from './postgres.ts'
import { PG_URL } from './services.ts'

export interface SpaceNeed {
  what: string
  path: string
  bytes: number
}

/** PostgreSQL's data directory, when the server runs on this machine and we may look. */
export async function postgresDataDirectory(): Promise<string | null> {
  const dir = await psql(PG_URL, 'SHOW data_directory').catch(() => '')
  return dir !== '' && existsSync(dir) ? dir : null
}

/** Throws a readable error when a filesystem has less free space than the needs on it. */
export function requireFreeSpace(needs: SpaceNeed[]): void {
  const byDevice = new Map<number, SpaceNeed[]>()
  for (const need of needs) {
    const device = statSync(need.path).dev
    byDevice.set(device, [...(byDevice.get(device) ?? []), need])
  }
  for (const group of byDevice.values()) {
    const stats = statfsSync(group[0]!.path)
    const free = stats.bavail * stats.bsize
    const wanted = group.reduce((sum, need) => sum + need.bytes, 0)
    if (free < wanted) {
      const list = group.map((n) => `${n.what} ${(n.bytes / 2 ** 30).toFixed(1)} GiB`).join(' + ')
      throw new Error(
        `not enough free disk space on ${group[0]!.path}: ${(free / 2 ** 30).toFixed(1)} GiB free, ` +
          `this run needs about ${(wanted / 2 ** 30).toFixed(1)} GiB (${list}); use a smaller size or free some space`,
      )
    }
  }
}
