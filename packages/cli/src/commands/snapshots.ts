// `dbsnap snapshots`: the snapshots in a repository, oldest first.

import * as Flags from '@oclif/core/flags'
import Table from 'cli-table3'
import { catalogueName, type UnreadableSnapshot } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatBytes, formatCount, printable } from '../format.js'
import { openRepository, repoFlag, repositoryLocation } from '../repository.js'

export interface SnapshotListItem {
  id: string
  name: string
  startedAt: string
  durationMs: number
  engine: string
  database: string | null
  tables: number
  rows: number
  bytes: number
  addedBytes: number
  tags: Record<string, string>
}

export default class Snapshots extends BaseCommand<typeof Snapshots> {
  static override description =
    'Lists every committed snapshot with its catalogue name, time, size and tags. A snapshot that was interrupted is never listed. A snapshot whose manifest cannot be read is flagged with a warning (and under "unreadable" with --json); the listing still exits 0, `verify` fails on it.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --repo /backups/shop',
    '<%= config.bin %> <%= command.id %> --connection shop --json',
  ]

  static override flags = {
    connection: Flags.string({
      description: 'only snapshots of this catalogue name or connection URL',
      multiple: true,
    }),
    repo: repoFlag,
  }

  static override summary = 'List snapshots.'

  async run(): Promise<{
    repository: string
    snapshots: SnapshotListItem[]
    unreadable: UnreadableSnapshot[]
  }> {
    const location = repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO)
    const repository = await openRepository(location, { signal: this.abort.signal })
    try {
      const names = this.flags.connection?.map(catalogueName)
      const listed = await repository.listSnapshotsAndUnreadable({ signal: this.abort.signal })
      const snapshots = listed.snapshots
        .filter((s) => names === undefined || names.includes(s.manifest.name))
        .map(({ id, manifest: m }): SnapshotListItem => ({
          id,
          name: m.name,
          startedAt: m.startedAt,
          durationMs: Date.parse(m.finishedAt) - Date.parse(m.startedAt),
          engine: m.source.engine,
          database: m.source.database,
          tables: m.totals.tables,
          rows: m.totals.rows,
          bytes: m.totals.bytes,
          addedBytes: m.totals.newBytes,
          tags: m.tags,
        }))
      // A bad manifest is flagged, not fatal: the listing still shows every good snapshot and
      // exits 0; `verify` is the command that fails on it.
      if (!this.jsonEnabled()) {
        this.log(render(snapshots))
        for (const bad of listed.unreadable) {
          this.warn(`${bad.message} [${bad.code}]; it is not listed`)
        }
      }
      return {
        repository: repository.location,
        snapshots,
        unreadable: listed.unreadable,
      }
    } finally {
      await repository.close()
    }
  }
}

function render(snapshots: SnapshotListItem[]): string {
  if (snapshots.length === 0) return 'no snapshots'
  const table = new Table({
    head: ['id', 'name', 'time (UTC)', 'tables', 'rows', 'size', 'added', 'tags'],
    style: { head: [], border: [] },
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
  })
  for (const s of snapshots) {
    table.push([
      s.id.slice(0, 12),
      printable(s.name),
      s.startedAt.slice(0, 19).replace('T', ' '),
      String(s.tables),
      formatCount(s.rows),
      formatBytes(s.bytes),
      formatBytes(s.addedBytes),
      printable(
        Object.entries(s.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ),
    ])
  }
  return `${table.toString()}\n${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}`
}
