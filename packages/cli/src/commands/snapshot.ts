// `dbsnap snapshot <conn>`: reads a database in one consistent view and stores it in the
// repository, deduplicated against every earlier snapshot.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import { DbsnapError, parseCodec, redactUrl, type SnapshotResult } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatBytes, formatCount, keyValueLines, plural, printable, style } from '../format.js'
import { repoFlag, repositoryLocation } from '../repository.js'
import { excludeFlag, tablesFlag } from '../table-flags.js'

export default class Snapshot extends BaseCommand<typeof Snapshot> {
  static override args = {
    conn: Args.string({
      description: 'connection URL of the database (postgres://…)',
      required: true,
    }),
  }

  static override description =
    'Reads every selected table in primary-key order inside one read-only REPEATABLE READ transaction and stores the rows as compressed, content-addressed chunks. Only chunks that changed since earlier snapshots are written, so every snapshot is complete but costs about what changed. The snapshot becomes visible only once all of it is stored: an interrupted snapshot leaves nothing listed.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> postgres://backup@db:5432/shop --repo /backups/shop',
    '<%= config.bin %> <%= command.id %> postgres://backup@db/shop --tables public.orders,public.customers --tag env=prod',
    '<%= config.bin %> <%= command.id %> postgres://backup@db/shop --repo s3://backups/shop --compression zstd:6 --json',
    '<%= config.bin %> <%= command.id %> postgres://backup@db/shop --jobs 8',
  ]

  static override flags = {
    compression: Flags.string({
      description: 'codec and level for new chunks: zstd[:1-19], gzip[:1-9], deflate[:1-9], none',
    }),
    exclude: excludeFlag,
    jobs: Flags.integer({
      description:
        'connections reading tables at the same time, all in one consistent view (default: up to 4, at most the CPUs); MySQL/MariaDB needs the RELOAD privilege for more than one',
      min: 1,
    }),
    name: Flags.string({
      description:
        'catalogue name, for <name>@latest: letters, digits, ".", "_" and "-" (default: the database name)',
    }),
    repo: repoFlag,
    tables: tablesFlag,
    tag: Flags.string({ description: 'a key=value tag to record (repeatable)', multiple: true }),
  }

  static override summary = 'Take a snapshot of a database.'

  async run(): Promise<SnapshotResult> {
    // Checked here too, to name the flag in the message.
    if (this.flags.compression !== undefined) parseCodec(this.flags.compression)
    if (this.flags.name !== undefined) checkName(this.flags.name)
    const location = repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO)
    this.logger.info({ url: redactUrl(this.args.conn), repository: location }, 'snapshot starting')
    const result = await this.job({
      kind: 'snapshot',
      repository: location,
      create: true,
      source: this.args.conn,
      name: this.flags.name,
      tables: this.flags.tables,
      exclude: this.flags.exclude,
      compression: this.flags.compression,
      tags: parseTags(this.flags.tag ?? []),
      jobs: this.flags.jobs,
    })
    if (!this.jsonEnabled()) this.log(render(result))
    return result
  }
}

/**
 * A catalogue name must read back in `<name>@latest~N`, where `@` and `~` are separators and a
 * `://` makes a connection URL: only letters, digits, `.`, `_` and `-`.
 */
function checkName(name: string): void {
  if (!/^[\p{L}\p{N}._-]{1,128}$/u.test(name)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected --name to be 1 to 128 letters, digits, ".", "_" or "-", as it is used in <name>@latest~N; got "${name}"`,
    )
  }
}

function parseTags(tags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const tag of tags) {
    const eq = tag.indexOf('=')
    if (eq <= 0) {
      throw new DbsnapError('INVALID_ARGUMENT', `expected --tag as key=value, got "${tag}"`)
    }
    out[tag.slice(0, eq)] = tag.slice(eq + 1)
  }
  return out
}

function render(result: SnapshotResult): string {
  const t = result.totals
  const seconds = (result.durationMs / 1000).toFixed(1)
  return [
    `${style('green', '✔')} snapshot ${style('bold', result.id.slice(0, 12))} of ${printable(result.name)} in ${seconds} s`,
    ...keyValueLines([
      [
        'tables',
        `${plural(t.tables, 'table')}, ${formatCount(t.rows)} rows, ${formatBytes(t.bytes)}`,
      ],
      [
        'added',
        `${formatBytes(t.newBytes)} (${plural(t.newObjects, 'new object')}, ${plural(t.reusedChunks, 'chunk')} reused)`,
      ],
      ['repository', printable(result.repository)],
    ]),
    ...result.warnings.map((warning) => `${style('yellow', '!')} ${printable(warning)}`),
  ].join('\n')
}
