// The export job: a snapshot as NDJSON, JSON, Extended JSON or SQL, to a file that appears whole
// or not at all (written beside its name, flushed, renamed), or to the caller's stream.

import { constants, createWriteStream } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { access, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DbsnapError, abortError } from '../errors.js'
import { exportSnapshot } from '../export/export.js'
import { resolveSnapshot } from '../snapshot/resolve-ref.js'
import { withRepository, type JobContext } from './context.js'
import type { ExportJobSpec } from './spec.js'

/** What an export job returns: where it wrote, and how much of each table. */
export interface ExportJobResult {
  snapshot: string
  format: ExportJobSpec['format']
  /** The file written, or `-` for the caller's stream. */
  out: string
  /** Rows written per table, `schema.table` as users write it. */
  tables: Record<string, number>
  rows: number
  bytes: number
  seconds: number
}

export async function runExportJob(
  spec: ExportJobSpec,
  { signal, progress, output }: JobContext,
): Promise<ExportJobResult> {
  const { out } = spec
  if (out === undefined && output === undefined) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      'an export job needs a file (`out`) or an output stream',
    )
  }
  if (out !== undefined) await checkOut(out)
  const started = performance.now()
  return withRepository(spec.repository, { signal }, async (repository) => {
    const snapshot = await resolveSnapshot(repository, spec.snapshot, { signal })
    const entries = snapshot.manifest.tables
    progress.phase('writing', {
      unit: 'rows',
      total: entries.reduce((n, t) => n + t.rows, 0),
    })
    const tables: Record<string, number> = {}
    let rows = 0
    let bytes = 0
    const pieces = exportSnapshot({
      repository,
      snapshot,
      format: spec.format,
      dialect: spec.dialect,
      tables: spec.tables,
      exclude: spec.exclude,
      signal,
      onRows: (table, count) => {
        tables[table] = (tables[table] ?? 0) + count
        rows += count
        progress.table(table)
        progress.update(rows, { bytes })
      },
    })
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const piece of pieces) {
        const buffer = Buffer.from(piece, 'utf8')
        bytes += buffer.byteLength
        yield buffer
      }
    }
    if (out !== undefined) await writeWhole(out, counted(), signal)
    else {
      await pipeline(Readable.from(counted()), output!, { signal, end: false }).catch(
        (err: unknown) => {
          throw signal.aborted ? abortError(signal) : err
        },
      )
    }
    progress.update(rows, { bytes })
    return {
      snapshot: snapshot.id,
      format: spec.format,
      out: out ?? '-',
      tables,
      rows,
      bytes,
      seconds: (performance.now() - started) / 1000,
    }
  })
}

/**
 * Checks, before anything is read, that `out` names a file that can be created: in an existing,
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
