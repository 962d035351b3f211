// `dbsnap restore <snap> --to <url>`: a snapshot, whole or some of its tables, back into a
// database. The plan is checked before anything is written; `--dry-run` prints it and stops.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import { DbsnapError, redactUrl, type RestoreResult, type RestoreStep } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatCount, plural, printable, style } from '../format.js'
import { repoFlag, repositoryLocation } from '../repository.js'
import { excludeFlag, tablesFlag } from '../table-flags.js'

export default class Restore extends BaseCommand<typeof Restore> {
  static override args = {
    snapshot: Args.string({
      description: 'snapshot id, unique id prefix, <name>@latest or <name>@latest~N',
      required: true,
    }),
  }

  static override description =
    "Recreates the snapshot's tables in the target database — schema objects in dependency order, rows bulk-loaded, then indexes, constraints, foreign keys, views, triggers and sequence positions — or only the tables chosen with --tables. Tables not chosen are never touched. --mode overwrite (default) replaces each table and refuses one holding rows unless --force; --mode append inserts rows, with --on-conflict for keys already there. On PostgreSQL each table is restored in one transaction; the plan (--dry-run) says what is not transactional on other engines."

  static override examples = [
    '<%= config.bin %> <%= command.id %> shop@latest --to postgres://app@localhost/shop_copy',
    '<%= config.bin %> <%= command.id %> shop@latest --to postgres://app@db/shop --tables orders --force',
    '<%= config.bin %> <%= command.id %> shop@latest~1 --to mysql://app@db/shop --tables orders --mode append --on-conflict skip',
    '<%= config.bin %> <%= command.id %> shop@latest --to postgres://app@db/shop --dry-run',
    '<%= config.bin %> <%= command.id %> shop@latest~1 --to postgres://app@db/shop --tables orders --only-changed',
  ]

  static override flags = {
    'dry-run': Flags.boolean({
      description: 'print the plan (objects, row counts, what would be replaced) and stop',
    }),
    exclude: excludeFlag,
    force: Flags.boolean({ description: 'overwrite tables that hold rows' }),
    'max-rows-per-second': Flags.integer({
      description: 'with --only-changed: read the live tables at most this fast',
      min: 1,
      dependsOn: ['only-changed'],
    }),
    mode: Flags.option({
      default: 'overwrite' as const,
      description: 'overwrite: the tables end up as in the snapshot; append: insert the rows',
      options: ['overwrite', 'append'] as const,
    })(),
    'on-conflict': Flags.option({
      description: 'append: what a row whose key is already there does [default: fail]',
      options: ['fail', 'skip', 'update'] as const,
    })(),
    'only-changed': Flags.boolean({
      description:
        'write back only the rows that differ from the snapshot (found by a live diff) and delete rows it does not have; tables keep their schema',
      exclusive: ['mode', 'on-conflict', 'force'],
    }),
    repo: repoFlag,
    tables: tablesFlag,
    to: Flags.string({
      description: 'connection URL of the database to restore into',
      required: true,
    }),
  }

  static override summary = 'Restore a snapshot, or some of its tables, into a database.'

  async run(): Promise<RestoreResult> {
    if (this.flags['on-conflict'] !== undefined && this.flags.mode !== 'append') {
      throw new DbsnapError('INVALID_ARGUMENT', '--on-conflict applies to --mode append only')
    }
    const onlyChanged = this.flags['only-changed']
    const result = await this.job(
      {
        kind: 'restore',
        repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
        snapshot: this.args.snapshot,
        target: this.flags.to,
        tables: this.flags.tables,
        exclude: this.flags.exclude,
        dryRun: this.flags['dry-run'],
        ...(onlyChanged
          ? { onlyChanged, maxRowsPerSecond: this.flags['max-rows-per-second'] }
          : {
              mode: this.flags.mode,
              onConflict: this.flags['on-conflict'],
              force: this.flags.force,
            }),
      },
      { quiet: this.flags['dry-run'] },
    )
    for (const warning of result.warnings) this.warn(warning)
    if (!this.jsonEnabled()) this.log(render(result, printable(redactUrl(this.flags.to))))
    return result
  }
}

function render(result: RestoreResult, to: string): string {
  const lines: string[] = []
  const id = result.snapshot.slice(0, 12)
  if (result.dryRun) {
    lines.push(`plan: restore ${style('bold', id)} into ${to} (${result.mode}); nothing written`)
    for (const step of result.plan) lines.push(`  ${stepLine(step)}`)
    const replaced = result.tables.filter((t) => t.before !== null && t.before.rows > 0)
    if (replaced.length > 0 && result.mode === 'overwrite') {
      lines.push(
        style(
          'yellow',
          `  replaces rows now in ${replaced.map((t) => `${printable(t.table)} (${t.before!.rows})`).join(', ')}`,
        ),
      )
    }
    return lines.join('\n')
  }
  const rows = result.tables.reduce((n, t) => n + t.inserted + t.updated + t.deleted, 0)
  lines.push(
    `restored ${style('bold', id)} into ${to}: ${plural(result.tables.length, 'table')}, ${plural(rows, 'row')} in ${result.seconds.toFixed(1)} s`,
  )
  for (const table of result.tables) {
    const parts = [`${formatCount(table.inserted)} inserted`]
    if (table.updated > 0) parts.push(`${formatCount(table.updated)} updated`)
    if (table.skipped > 0) parts.push(`${formatCount(table.skipped)} skipped`)
    if (table.deleted > 0) parts.push(`${formatCount(table.deleted)} deleted`)
    lines.push(`  ${printable(table.table)}: ${parts.join(', ')}`)
  }
  return lines.join('\n')
}

function stepLine(step: RestoreStep): string {
  const rows = step.rows === undefined ? '' : ` (${plural(step.rows, 'row')})`
  const text = `${step.action} ${printable(step.object)}${rows}`
  return step.destructive === true ? style('yellow', `! ${text}`) : `  ${text}`
}
