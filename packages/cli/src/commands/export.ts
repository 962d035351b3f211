// `dbsnap export <snap>`: a snapshot as NDJSON, JSON, MongoDB Extended JSON or an SQL script,
// streamed to a file or stdout. A file appears whole or not at all: it is written beside its
// final name, flushed to disk and renamed once complete.

import { Writable } from 'node:stream'
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import { DbsnapError, EXPORT_FORMATS, type ExportJobResult } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatBytes, plural, printable } from '../format.js'
import { repoFlag, repositoryLocation } from '../repository.js'
import { excludeFlag, tablesFlag } from '../table-flags.js'

export default class Export extends BaseCommand<typeof Export> {
  static override args = {
    snapshot: Args.string({
      description: 'snapshot id, unique id prefix, <name>@latest or <name>@latest~N',
      required: true,
    }),
  }

  static override description =
    'Writes the snapshot\'s rows (and for SQL its schema) in a form other tools load: ndjson, one {"table","row"} object per line; json, one document; ejson, one collection as canonical MongoDB Extended JSON per line (mongoimport); sql, DDL and data that psql or mysql load into an empty database. Streamed chunk by chunk: memory stays bounded whatever the size. Formats are described in docs/export.md.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> shop@latest --format sql --out shop.sql',
    '<%= config.bin %> <%= command.id %> shop@latest --format ndjson --tables orders | jq .row.total',
    '<%= config.bin %> <%= command.id %> app@latest --format ejson --tables users --out users.json',
  ]

  static override flags = {
    dialect: Flags.option({
      description: "sql: the SQL dialect [default: the snapshot's engine]",
      options: ['postgres', 'mysql'] as const,
    })(),
    exclude: excludeFlag,
    format: Flags.option({
      default: 'ndjson' as const,
      description: 'what to write',
      options: EXPORT_FORMATS,
    })(),
    out: Flags.string({ default: '-', description: 'file to write, or - for stdout' }),
    repo: repoFlag,
    tables: tablesFlag,
  }

  static override summary = 'Export a snapshot as NDJSON, JSON, Extended JSON or SQL.'

  async run(): Promise<ExportJobResult> {
    const { format, out } = this.flags
    if (out === '-' && this.jsonEnabled()) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        '--json prints a result document on stdout; give the export a file with --out',
      )
    }
    if (this.flags.dialect !== undefined && format !== 'sql') {
      throw new DbsnapError('INVALID_ARGUMENT', '--dialect applies to --format sql only')
    }
    const result = await this.job(
      {
        kind: 'export',
        repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
        snapshot: this.args.snapshot,
        format,
        dialect: this.flags.dialect,
        tables: this.flags.tables,
        exclude: this.flags.exclude,
        out: out === '-' ? undefined : out,
      },
      // Rows on stdout: a progress view on stderr would only be noise around a pipe.
      out === '-' ? { output: toStdout(), quiet: true } : {},
    )
    if (out !== '-' && !this.jsonEnabled()) {
      this.log(
        `exported ${plural(Object.keys(result.tables).length, 'table')}, ${plural(result.rows, 'row')} to ${printable(out)} (${formatBytes(result.bytes)}, ${result.seconds.toFixed(1)} s)`,
      )
    }
    return result
  }
}

/**
 * stdout as a pipeline destination, with backpressure. A reader that goes away (`| head`) aborts
 * the command's signal: it then ends quietly.
 */
function toStdout(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (process.stdout.write(chunk)) done()
      else process.stdout.once('drain', () => done())
    },
  })
}
