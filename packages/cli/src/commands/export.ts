// `dbsnap export <snap>`: a snapshot as NDJSON, JSON, MongoDB Extended JSON or an SQL script,
// streamed to a file or stdout. A file appears whole or not at all: it is written beside its
// final name, flushed to disk and renamed once complete.

import { constants, createWriteStream } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { access, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Args, Flags } from '@oclif/core'
import {
  DbsnapError,
  EXPORT_FORMATS,
  abortError,
  exportSnapshot,
  resolveSnapshot,
} from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatBytes, plural, printable } from '../format.js'
import { openRepository, repoFlag, repositoryLocation } from '../repository.js'
import { excludeFlag, tablesFlag } from '../table-flags.js'

interface ExportResult {
  snapshot: string
  format: string
  out: string
  tables: Record<string, number>
  rows: number
  bytes: number
  seconds: number
}

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

  async run(): Promise<ExportResult> {
    const signal = this.abort.signal
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
    if (out !== '-') await checkOut(out)
    const started = performance.now()
    const repository = await openRepository(
      repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      { signal },
    )
    const tables: Record<string, number> = {}
    let bytes = 0
    try {
      const snapshot = await resolveSnapshot(repository, this.args.snapshot, { signal })
      const pieces = exportSnapshot({
        repository,
        snapshot,
        format,
        dialect: this.flags.dialect,
        tables: this.flags.tables,
        exclude: this.flags.exclude,
        signal,
        onRows: (table, rows) => {
          tables[table] = (tables[table] ?? 0) + rows
        },
      })
      const counted = async function* (): AsyncGenerator<Buffer> {
        for await (const piece of pieces) {
          const buffer = Buffer.from(piece, 'utf8')
          bytes += buffer.byteLength
          yield buffer
        }
      }
      if (out !== '-') await writeWhole(out, counted(), signal)
      else {
        // A reader that goes away (`| head`) aborts the signal: the command then ends quietly.
        await pipeline(Readable.from(counted()), toStdout(), { signal }).catch((err: unknown) => {
          throw signal.aborted ? abortError(signal) : err
        })
      }
      const result: ExportResult = {
        snapshot: snapshot.id,
        format,
        out,
        tables,
        rows: Object.values(tables).reduce((n, rows) => n + rows, 0),
        bytes,
        seconds: (performance.now() - started) / 1000,
      }
      if (out !== '-' && !this.jsonEnabled()) {
        this.log(
          `exported ${plural(Object.keys(tables).length, 'table')}, ${plural(result.rows, 'row')} to ${printable(out)} (${formatBytes(bytes)}, ${result.seconds.toFixed(1)} s)`,
        )
      }
      return result
    } finally {
      await repository.storage.close()
    }
  }
}

/**
 * Checks, before anything is read, that `--out` names a file that can be created: in an existing,
 * writable directory, and not a directory itself.
 */
async function checkOut(path: string): Promise<void> {
  const invalid = (why: string): DbsnapError =>
    new DbsnapError('OUTPUT_INVALID', `cannot write --out ${path}: ${why}`, { details: { path } })
  if ((await stat(path).catch(() => null))?.isDirectory() === true)
    throw invalid('it is a directory; give the name of a file to write in it')
  const directory = dirname(path)
  const parent = await stat(directory).catch(() => null)
  if (parent === null) throw invalid(`expected the directory ${directory} to exist, found none`)
  if (!parent.isDirectory()) throw invalid(`${directory} is not a directory`)
  await access(directory, constants.W_OK).catch(() => {
    throw invalid(`the directory ${directory} is not writable`)
  })
}

/**
 * Writes to a new file of its own beside `path` (never an existing file or link, readable by its
 * owner only), flushes it to disk, then renames it to `path`: the file appears whole or not at
 * all, even after a crash. Removed on failure.
 */
async function writeWhole(
  path: string,
  source: AsyncIterable<Buffer>,
  signal: AbortSignal,
): Promise<void> {
  const partial = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`,
  )
  try {
    await pipeline(
      Readable.from(source),
      createWriteStream(partial, { flags: 'wx', mode: 0o600 }),
      { signal },
    )
    const file = await open(partial, 'r')
    try {
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(partial, path)
  } catch (err) {
    await rm(partial, { force: true })
    throw signal.aborted ? abortError(signal) : err
  }
}

/** stdout as a pipeline destination, with backpressure, that the pipeline does not end. */
function toStdout(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (process.stdout.write(chunk)) done()
      else process.stdout.once('drain', () => done())
    },
  })
}
