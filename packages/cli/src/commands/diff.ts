// `dbsnap diff <from> <to>`: what changed between two snapshots — schema first, then rows with
// their changed fields — as a readable report, JSON, NDJSON or Markdown; `--exit-code` for CI.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {
  DbsnapError,
  diffMarkdown,
  type DiffSummary,
  type RowChange,
  type SchemaChange,
  type SnapshotDiff,
  type TableDiff,
} from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import {
  colorize,
  header,
  rowLine,
  schemaLine,
  sideLine,
  summaryLine,
  tableLine,
  writeNdjson,
} from '../diff-output.js'
import { plural, printable, style } from '../format.js'
import { ExitCode } from '../exit-codes.js'
import { repoFlag, repositoryLocation } from '../repository.js'
import { excludeFlag, tablesFlag } from '../table-flags.js'

const FORMATS = ['text', 'json', 'ndjson', 'markdown'] as const
type Format = (typeof FORMATS)[number]

/** What `--json` (and `--format json`) prints: the whole diff as one document. */
interface DiffDocument {
  format: SnapshotDiff['format']
  version: SnapshotDiff['version']
  from: SnapshotDiff['from']
  to: SnapshotDiff['to']
  summary: DiffSummary
  schema: SchemaChange[]
  tables: TableDiff[]
  changes: RowChange[]
}

/** What `--save` returns: where the diff is, and its counts. */
interface SavedResult {
  id: string
  summary: DiffSummary
  tables: TableDiff[]
}

export default class Diff extends BaseCommand<typeof Diff> {
  static override args = {
    from: Args.string({
      description: 'the earlier snapshot (id, prefix, name@latest~N)',
      required: true,
    }),
    to: Args.string({ description: 'the later snapshot (or --live <connection URL>)' }),
  }

  static override description =
    'Compares two snapshots of the same database: schema changes (added, removed, changed, renamed objects), then per table the rows added, removed and modified, with the columns that changed (JSON patches for JSON columns and documents). Identical chunks are skipped unread, so the time follows the size of the change. With --exit-code: 0 when equal, 1 when different, more on error.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> shop@latest~1 shop@latest',
    '<%= config.bin %> <%= command.id %> 1a2b3c 4d5e6f --tables orders --format ndjson',
    '<%= config.bin %> <%= command.id %> shop@latest~1 shop@latest --exit-code --format markdown',
    '<%= config.bin %> <%= command.id %> shop@latest --live postgres://readonly@db/shop --max-rows-per-second 50000',
  ]

  static override flags = {
    'data-only': Flags.boolean({ description: 'only row changes', exclusive: ['schema-only'] }),
    exclude: excludeFlag,
    'exit-code': Flags.boolean({ description: 'exit 1 when the snapshots differ, 0 when equal' }),
    format: Flags.option({ description: 'output format', options: FORMATS, default: 'text' })(),
    live: Flags.string({
      description:
        'compare the snapshot with the live database at this connection URL, read in key order in one read-only view',
    }),
    'max-rows-per-second': Flags.integer({
      description: 'with --live: read at most this many rows a second, to spare a busy server',
      min: 1,
      dependsOn: ['live'],
    }),
    limit: Flags.integer({
      description: 'text and markdown: at most this many rows shown per table (counts stay exact)',
      default: 20,
      min: 0,
    }),
    repo: repoFlag,
    save: Flags.boolean({
      description:
        'store the diff in the repository and print its id, for paging with `dbsnap diffs <id>`',
    }),
    'schema-only': Flags.boolean({ description: 'only schema changes; no row is read' }),
    tables: tablesFlag,
    verbose: Flags.boolean({
      char: 'v',
      description: 'text: list each unchanged table too, not only how many there are',
    }),
  }

  static override summary = 'Show what changed between two snapshots.'

  async run(): Promise<DiffDocument | DiffSummary | SavedResult> {
    const format: Format = this.jsonEnabled() ? 'json' : this.flags.format
    if (this.flags.live === undefined && this.args.to === undefined) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        'expected a second snapshot to compare with, or --live <connection URL>',
      )
    }
    if (this.flags.live !== undefined && this.args.to !== undefined) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `give either a second snapshot (${this.args.to}) or --live, not both`,
      )
    }
    const spec = {
      kind: 'diff' as const,
      repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      from: this.args.from,
      to: this.args.to,
      live: this.flags.live,
      tables: this.flags.tables,
      exclude: this.flags.exclude,
      schemaOnly: this.flags['schema-only'],
      dataOnly: this.flags['data-only'],
      maxRowsPerSecond: this.flags['max-rows-per-second'],
    }
    if (this.flags.save) {
      const result = await this.job({ ...spec, save: true })
      for (const warning of result.warnings) this.warn(warning)
      const saved: SavedResult = {
        id: result.saved!,
        summary: result.summary,
        tables: result.tables,
      }
      if (!this.jsonEnabled()) {
        this.log(
          `saved diff ${style('bold', saved.id.slice(0, 12))}: ${summaryLine(saved.summary)}`,
        )
        this.log(style('dim', `  page through it: dbsnap diffs ${saved.id.slice(0, 12)} --page 1`))
      }
      return this.#finish(saved.summary, saved)
    }
    let summary: DiffSummary | undefined
    let document: DiffDocument | undefined
    await this.job(spec, {
      renderDiff: async (diff, warnings) => {
        for (const warning of warnings) this.warn(warning)
        if (format === 'json') {
          const changes: RowChange[] = []
          for await (const change of diff.rowChanges()) changes.push(change)
          summary = diff.summary()
          document = { ...header(diff), summary, schema: diff.schema, tables: diff.tables, changes }
          if (!this.jsonEnabled()) this.logJson(document)
        } else if (format === 'ndjson') {
          summary = await writeNdjson(diff, process.stdout)
        } else {
          summary = format === 'markdown' ? await this.#markdown(diff) : await this.#report(diff)
        }
      },
    })
    if (summary === undefined) throw new DbsnapError('INTERNAL', 'the diff was not rendered')
    return this.#finish(summary, document ?? summary)
  }

  /** The result; with --exit-code, exit 1 after printing it when the snapshots differ. */
  #finish<T>(summary: DiffSummary, result: T): T {
    if (this.flags['exit-code'] && !summary.equal) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(ExitCode.DIFFERENCES)
    }
    return result
  }

  /** The readable report, colored on a terminal, rows streamed as found. */
  async #report(diff: SnapshotDiff): Promise<DiffSummary> {
    const limit = this.flags.limit
    this.log(`${style('bold', 'diff')} ${sideLine(diff.from)} → ${sideLine(diff.to)}`)
    if (diff.schema.length > 0) {
      this.log(style('bold', `\nschema: ${plural(diff.schema.length, 'change')}`))
      for (const change of diff.schema) this.log(`  ${colorize(change.change, schemaLine(change))}`)
    }
    if (this.flags['schema-only']) {
      const summary = diff.summary()
      this.log(`\n${style('bold', summaryLine(summary))}`)
      return summary
    }
    this.log(style('bold', '\ndata:'))
    let current: string | null = null
    let shown = 0
    const finishTable = (name: string | null): void => {
      const more = name === null ? 0 : unshown(diff, name, shown)
      if (more > 0) this.log(style('dim', `    … ${more} more`))
    }
    for await (const change of diff.rowChanges()) {
      if (change.table !== current) {
        finishTable(current)
        current = change.table
        shown = 0
        this.log(`  ${style('bold', printable(change.table))}`)
      }
      if (shown >= limit) continue
      shown++
      const line = rowLine(change, diff.to.engine ?? diff.from.engine)
      this.log(`    ${colorize(change.change, line)}`)
    }
    finishTable(current)
    if (current === null) this.log(style('dim', '  no row changed'))
    const summary = diff.summary()
    const unchanged = diff.tables.filter((t) => t.status === 'unchanged')
    for (const table of diff.tables)
      if (this.flags.verbose || table.status !== 'unchanged') this.log(`  ${tableLine(table)}`)
    if (!this.flags.verbose && unchanged.length > 0)
      this.log(style('dim', `  ${plural(unchanged.length, 'table')} unchanged (-v lists them)`))
    this.log(`\n${style('bold', summaryLine(summary))}`)
    return summary
  }

  /** The report as Markdown for pull requests, web views and alerts: the engine's renderer. */
  async #markdown(diff: SnapshotDiff): Promise<DiffSummary> {
    const options = { limit: this.flags.limit, schemaOnly: this.flags['schema-only'] }
    for await (const block of diffMarkdown(diff, options)) this.log(block)
    return diff.summary()
  }
}

/** How many row changes of a table were left out of a report that showed `shown` of them. */
function unshown(diff: SnapshotDiff, name: string, shown: number): number {
  const table = diff.tables.find((t) => t.table === name)
  return table === undefined ? 0 : table.added + table.removed + table.modified - shown
}
