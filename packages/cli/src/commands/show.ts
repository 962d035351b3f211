// `dbsnap show <snap>`: what a snapshot holds — its tables, or the rows of one table — read from
// the repository alone, without touching any database.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import Table from 'cli-table3'
import {
  DbsnapError,
  findTable,
  readSnapshotRows,
  resolveSnapshot,
  tableName,
  type CanonicalRow,
  type CanonicalValue,
  type SnapshotManifest,
  type TableEntry,
} from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { formatBytes, formatCount, keyValueLines, printable } from '../format.js'
import { openRepository, repoFlag, repositoryLocation } from '../repository.js'

type ShowResult =
  | {
      id: string
      manifest: Omit<SnapshotManifest, 'schema'>
    }
  | {
      id: string
      table: string
      schema: string
      name: string
      columns: string[]
      key: string[] | null
      rows: CanonicalRow[]
    }

export default class Show extends BaseCommand<typeof Show> {
  static override args = {
    snapshot: Args.string({
      description: 'snapshot id, unique id prefix, <name>@latest or <name>@latest~N',
      required: true,
    }),
  }

  static override description =
    "Without --table: the snapshot's source, time, tags and tables. With --table: the rows of that table in primary-key order, one JSON object per line (column: canonical value, see docs/snapshot-format.md); --json prints one document with the columns and rows as arrays."

  static override examples = [
    '<%= config.bin %> <%= command.id %> shop@latest',
    '<%= config.bin %> <%= command.id %> shop@latest --table orders --limit 20',
    '<%= config.bin %> <%= command.id %> 1a2b3c4d --table sales.order_items --key \'[42,"A-7"]\' --json',
  ]

  static override flags = {
    key: Flags.string({
      description:
        'only the row with this primary key: a value, or a JSON array for a composite key',
      dependsOn: ['table'],
    }),
    limit: Flags.integer({ description: 'at most this many rows', min: 0 }),
    repo: repoFlag,
    table: Flags.string({ description: 'the table to print rows of (schema.table)' }),
  }

  static override summary = 'Show a snapshot, or rows of one of its tables.'

  async run(): Promise<ShowResult> {
    const location = repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO)
    const repository = await openRepository(location, { signal: this.abort.signal })
    const signal = this.abort.signal
    try {
      const snapshot = await resolveSnapshot(repository, this.args.snapshot, { signal })
      if (this.flags.table === undefined) {
        const { schema: _schema, ...manifest } = snapshot.manifest
        if (!this.jsonEnabled()) this.log(renderManifest(snapshot.id, snapshot.manifest))
        return { id: snapshot.id, manifest }
      }
      const table = findTable(snapshot, this.flags.table)
      const key =
        this.flags.key === undefined
          ? undefined
          : parseKey(this.flags.key, table, snapshot.manifest)
      const rows: CanonicalRow[] = []
      for await (const batch of readSnapshotRows(repository, table, {
        key,
        limit: this.flags.limit,
        signal,
      })) {
        if (this.jsonEnabled()) rows.push(...batch)
        else
          for (const row of batch) this.log(printable(JSON.stringify(asObject(table.columns, row))))
      }
      return {
        id: snapshot.id,
        table: tableName(table),
        schema: table.schema,
        name: table.name,
        columns: table.columns,
        key: table.key,
        rows,
      }
    } finally {
      await repository.close()
    }
  }
}

function asObject(columns: string[], row: CanonicalRow): Record<string, CanonicalValue> {
  const out: Record<string, CanonicalValue> = {}
  columns.forEach((column, i) => {
    out[column] = row[i] ?? null
  })
  return out
}

/** `--key 42`, `--key abc`, `--key '[1,"a"]'` as canonical key values of the table's key columns. */
function parseKey(text: string, table: TableEntry, manifest: SnapshotManifest): CanonicalValue[] {
  if (table.key === null) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `${tableName(table)} has no primary key; --key needs one`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = text
  }
  const values = Array.isArray(parsed) && table.key.length > 1 ? (parsed as unknown[]) : [parsed]
  if (values.length !== table.key.length) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `${tableName(table)} has a key of ${table.key.length} columns (${table.key.join(', ')}); --key gave ${values.length}`,
    )
  }
  const schemaTable = manifest.schema.tables.find(
    (t) => t.schema === table.schema && t.name === table.name,
  )
  return values.map((value, i) => {
    const encoding = schemaTable?.columns.find((c) => c.name === table.key![i])?.encoding ?? 'text'
    // A MongoDB `_id` in canonical Extended JSON (`{"$oid":"…"}`); a bare word is a string _id.
    if (encoding === 'ejson') return JSON.stringify(value)
    if (value === null) return null
    if (encoding === 'text') return typeof value === 'string' ? value : JSON.stringify(value)
    if (encoding === 'boolean') return value === true || value === 'true' || value === 't'
    const number = Number(value)
    if (encoding === 'bigint' && typeof value === 'string' && !Number.isSafeInteger(number))
      return value
    if (!Number.isFinite(number)) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `key column ${table.key![i]} is numeric; got ${JSON.stringify(value)}`,
      )
    }
    return number
  })
}

function renderManifest(id: string, m: SnapshotManifest): string {
  const rows: [string, string][] = [
    ['snapshot', id],
    ['name', m.name],
    [
      'source',
      `${m.source.product} ${m.source.serverVersion} at ${m.source.host}:${m.source.port}, database ${m.source.database ?? '(server)'}`,
    ],
    [
      'taken',
      `${m.startedAt} (${((Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000).toFixed(1)} s)`,
    ],
    [
      'size',
      `${formatCount(m.totals.rows)} rows, ${formatBytes(m.totals.bytes)}; added ${formatBytes(m.totals.newBytes)} to the repository`,
    ],
    ['compression', m.compression],
    [
      'tags',
      Object.entries(m.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(none)',
    ],
  ]
  const head = keyValueLines(
    rows.map(([label, value]) => [label, printable(value)]),
    0,
  )
  const table = new Table({
    head: ['table', 'rows', 'size', 'chunks', 'key'],
    style: { head: [], border: [] },
    colAligns: ['left', 'right', 'right', 'right', 'left'],
  })
  for (const t of m.tables) {
    table.push([
      printable(tableName(t)),
      formatCount(t.rows),
      formatBytes(t.bytes),
      String(t.chunks),
      printable(t.key?.join(', ') ?? '(none: full-row order)'),
    ])
  }
  return `${head.join('\n')}\n${table.toString()}`
}
