// Export: a snapshot as files other tools load — NDJSON, one JSON document, MongoDB Extended
// JSON, or an SQL script for psql / mysql — streamed chunk by chunk, so memory stays bounded
// whatever the snapshot's size.

import { engineModule, type EngineModule, type SqlDialect } from '../adapters/engines.js'
import type { SqlScript } from '../adapters/target-adapter.js'
import { countedRows, snapshotTableRows, type TableRows } from '../repository/snapshot-rows.js'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'
import type { Engine, TableSchema } from '../schema/schema.js'
import { jsonKind } from '../diff/field-diff.js'
import { DbsnapError } from '../errors.js'
import type { TableEntry } from '../repository/manifest.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { restoreObjects } from '../repository/restore-objects.js'
import type { TableSelector } from '../schema/table-filter.js'

export const EXPORT_FORMATS = ['ndjson', 'json', 'sql', 'ejson'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export type { SqlDialect }

/** `json` documents say what they are: `{"format": "dbsnap-export", "version": 1, …}`. */
export const EXPORT_FORMAT = 'dbsnap-export'
export const EXPORT_FORMAT_VERSION = 1

export interface ExportOptions {
  repository: Repository
  snapshot: StoredSnapshot
  format: ExportFormat
  /** SQL only; default: the snapshot's engine. */
  dialect?: SqlDialect
  tables?: TableSelector[]
  exclude?: TableSelector[]
  signal?: AbortSignal
  /** Called after each chunk of rows written. */
  onRows?: (table: string, rows: number) => void
}

/**
 * The export as pieces of text, in order: write them out as they come (one chunk of rows per
 * piece at most). Formats:
 * - `ndjson`: one line per row,
 *   `{"table":"public.orders","schema":"public","name":"orders","row":{"id":1,…}}`;
 * - `json`: one document, `{"format":"dbsnap-export","version":1,…,"tables":[{"table":…,
 *   "schema":…,"name":…,"columns":[…],"rows":[{…},…]}]}`;
 * - `ejson`: one collection, one canonical Extended JSON document per line, as `mongoimport`
 *   reads it;
 * - `sql`: DDL and data that `psql` / `mysql` load into an empty database; of a snapshot taken
 *   with `--tables`, a comment line for each object left out (`restorableSchema`).
 * JSON values: numbers and booleans as such, JSON columns as JSON, MongoDB documents as relaxed
 * Extended JSON, everything else as the engine's text form (docs/export.md).
 */
export async function* exportSnapshot(options: ExportOptions): AsyncGenerator<string> {
  const lock = await options.repository.lock('shared', 'export', { signal: options.signal })
  try {
    yield* exportLocked(options)
  } finally {
    await lock.release()
  }
}

async function* exportLocked(options: ExportOptions): AsyncGenerator<string> {
  const { repository, snapshot, format, signal } = options
  const engine = snapshot.manifest.source.engine
  const objects = restoreObjects(
    snapshot,
    options,
    engineModule(snapshot.manifest.schema.engine).defaultSchema,
  )
  const entries = new Map(snapshot.manifest.tables.map((entry) => [tableKey(entry), entry]))
  const selected = objects.tables.map((schema) => ({
    schema,
    entry: entries.get(tableKey(schema))!,
  }))
  const rowsOf = (entry: TableEntry): TableRows =>
    countedRows(snapshotTableRows(repository, entry, { signal }), (rows) =>
      options.onRows?.(tableName(entry), rows),
    )

  switch (format) {
    case 'sql': {
      const script = await sqlScript(engine, options.dialect ?? sqlOf(engine).dialect)
      yield script.preData(objects)
      for (const line of objects.leftOut) yield `-- ${commentText(line)}\n`
      for (const { schema, entry } of selected) yield* script.tableData(schema, rowsOf(entry))
      yield script.postData(objects)
      return
    }
    case 'ejson': {
      if (selected.length !== 1) {
        throw new DbsnapError(
          'INVALID_ARGUMENT',
          `--format ejson writes one collection, as mongoimport reads it; choose one of the ${selected.length} tables with --tables`,
        )
      }
      const { schema, entry } = selected[0]!
      const toEjson = ejsonRow(schema, entry)
      for await (const rows of rowsOf(entry)) yield rows.map((row) => `${toEjson(row)}\n`).join('')
      return
    }
    case 'ndjson': {
      for (const { schema, entry } of selected) {
        const toObject = await objectRow(schema, entry)
        const prefix = `${JSON.stringify(tableAbout(entry)).slice(0, -1)},"row":`
        for await (const rows of rowsOf(entry)) {
          yield rows.map((row) => `${prefix}${toObject(row)}}\n`).join('')
        }
      }
      return
    }
    case 'json': {
      const head = {
        format: EXPORT_FORMAT,
        version: EXPORT_FORMAT_VERSION,
        snapshot: snapshot.id,
        name: snapshot.manifest.name,
        takenAt: snapshot.manifest.startedAt,
        engine,
      }
      yield `${JSON.stringify(head).slice(0, -1)},"tables":[`
      for (const [i, { schema, entry }] of selected.entries()) {
        const toObject = await objectRow(schema, entry)
        const about = { ...tableAbout(entry), columns: entry.columns, key: entry.key }
        yield `${i === 0 ? '' : ','}\n${JSON.stringify(about).slice(0, -1)},"rows":[`
        let separator = ''
        for await (const rows of rowsOf(entry)) {
          let piece = ''
          for (const row of rows) {
            piece += `${separator}\n${toObject(row)}`
            separator = ','
          }
          yield piece
        }
        yield ']}'
      }
      yield '\n]}\n'
      return
    }
  }
}

/** Text for an SQL comment line: control characters escaped, so no name can end the comment. */
function commentText(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** How an export names a table: as users write it, and its schema and name apart. */
function tableAbout(entry: TableEntry): { table: string; schema: string; name: string } {
  return { table: tableName(entry), schema: entry.schema, name: entry.name }
}

/** The SQL form of an engine's snapshots, from the engine registry. */
function sqlOf(engine: Engine): NonNullable<EngineModule['sql']> {
  const sql = engineModule(engine).sql
  if (sql === null) {
    throw new DbsnapError(
      'NOT_SUPPORTED',
      'a MongoDB snapshot has no SQL form; export it with --format ejson (mongoimport) or ndjson',
    )
  }
  return sql
}

async function sqlScript(engine: Engine, dialect: SqlDialect): Promise<SqlScript> {
  const sql = sqlOf(engine)
  if (sql.dialect !== dialect) {
    throw new DbsnapError(
      'NOT_SUPPORTED',
      `this snapshot is of a ${engine} database; --dialect ${dialect} (translating its types and objects to another engine) is not supported yet: export it as ndjson and load that, or use --dialect ${engine}`,
    )
  }
  return sql.script()
}

/**
 * A row as the text of a JSON object: column name to value, documents as relaxed Extended JSON.
 * A JSON column's value goes in as the database wrote it, so numbers beyond 2^53 keep every
 * digit; it is parsed only to check it (and re-serialized if it spans lines).
 */
async function objectRow(
  schema: TableSchema,
  entry: TableEntry,
): Promise<(row: CanonicalRow) => string> {
  const kinds = entry.columns.map((name) => jsonKind(schema, name))
  const relaxed = kinds.includes('ejson') ? await relaxedEjson() : null
  const names = entry.columns.map((name) => `${JSON.stringify(name)}:`)
  const valueText = (value: CanonicalValue, kind: 'json' | 'ejson' | null): string => {
    if (typeof value !== 'string' || kind === null) return JSON.stringify(value)
    if (kind === 'ejson') return JSON.stringify(relaxed!(value))
    const parsed: unknown = JSON.parse(value)
    return /[\n\r]/.test(value) ? JSON.stringify(parsed) : value
  }
  return (row) => {
    let out = '{'
    for (let i = 0; i < names.length; i++) {
      out += `${i === 0 ? '' : ','}${names[i]!}${valueText(row[i] ?? null, kinds[i]!)}`
    }
    return `${out}}`
  }
}

/** MongoDB: the document as it is stored. SQL tables: the row with typed numbers. */
function ejsonRow(schema: TableSchema, entry: TableEntry): (row: CanonicalRow) => string {
  const document = entry.columns.indexOf('document')
  if (schema.kind === 'collection' && document >= 0) return (row) => String(row[document])
  const encodings = entry.columns.map(
    (name) => schema.columns.find((column) => column.name === name)?.encoding ?? 'text',
  )
  return (row) => {
    const out: Record<string, unknown> = {}
    entry.columns.forEach((name, i) => {
      out[name] = typedValue(row[i] ?? null, encodings[i]!)
    })
    return JSON.stringify(out)
  }
}

/** A canonical value as canonical Extended JSON: numbers say their BSON type. */
function typedValue(value: CanonicalValue, encoding: string): unknown {
  if (value === null || typeof value === 'boolean') return value
  switch (encoding) {
    case 'integer':
    case 'bigint': {
      const n = typeof value === 'number' ? value : Number(value)
      return Number.isInteger(n) && Math.abs(n) <= 0x7fffffff
        ? { $numberInt: String(value) }
        : { $numberLong: String(value) }
    }
    case 'float':
      return { $numberDouble: typeof value === 'number' ? numberText(value) : value }
    default:
      return value
  }
}

/** `1` as `1.0`, as Extended JSON writes doubles. */
function numberText(n: number): string {
  const text = String(n)
  return /^-?\d+$/.test(text) ? `${text}.0` : text
}

/** Canonical Extended JSON text to the relaxed form as a plain JSON value (bson's EJSON). */
async function relaxedEjson(): Promise<(text: string) => unknown> {
  const { EJSON } = (await import('mongodb')).BSON
  return (text) => EJSON.serialize(EJSON.parse(text, { relaxed: false }), { relaxed: true })
}
