// How a PostgreSQL restore loads a table's rows: COPY FROM STDIN, fed one chunk ahead, and for an
// append that must not fail on a key already there, COPY into a temporary table, then one INSERT
// … ON CONFLICT. The caller runs them inside the table's transaction.

import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { CanonicalValue } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, throwIfAborted } from '../../errors.js'
import type { TableSchema } from '../../schema/schema.js'
import type { RestoreTableOptions, RestoreTableResult, TableRows } from '../target-adapter.js'
import { copyColumns, copyFromStatement, qualifiedName, quoteIdent } from './postgres-ddl.js'
import { postgresQueryError } from './postgres-errors.js'
import { BINARY_MIN_BYTES, binaryCopyKinds, copyBinary } from './postgres-copy-binary.js'
import { copyText } from './postgres-sql.js'

/** Appends rows: COPY straight in (`fail`), or through a temporary table (`skip`, `update`). */
export async function appendRows(
  client: pg.Client,
  target: ConnectionTarget,
  table: TableSchema,
  rows: TableRows,
  options: RestoreTableOptions,
  counted: (rows: number) => void,
): Promise<RestoreTableResult> {
  const { signal } = options
  const name = qualifiedName(table)
  const columns = copyColumns(table).map((i) => table.columns[i]!)
  const list = columns.map((c) => quoteIdent(c.name)).join(', ')
  let total = 0
  const count = (n: number): void => {
    total += n
    counted(n)
  }
  // `--only-changed`: the rows to delete go first, in this same transaction.
  await deleteKeys(client, target, table, options.deleteKeys ?? [], signal)
  if (options.onConflict === 'fail') {
    await copyRows(client, table, name, rows, signal, count)
    return { inserted: total, updated: 0, skipped: 0 }
  }
  const key = table.primaryKey?.columns ?? null
  if (options.onConflict === 'update' && key === null) {
    throw new DbsnapError(
      'TARGET_SCHEMA_MISMATCH',
      `cannot append to ${table.schema}.${table.name} with --on-conflict update: it has no primary key to match rows by`,
    )
  }
  const temp = quoteIdent('dbsnap_append')
  await client.query(
    `CREATE TEMPORARY TABLE ${temp} ON COMMIT DROP AS SELECT ${list} FROM ${name} WITH NO DATA`,
  )
  await copyRows(client, table, `pg_temp.${temp}`, rows, signal, count)
  const overriding = columns.some((c) => c.identity === 'always') ? ' OVERRIDING SYSTEM VALUE' : ''
  const conflictTarget = key === null ? '' : ` (${key.map(quoteIdent).join(', ')})`
  const updates = columns.filter((c) => !(key ?? []).includes(c.name) && c.identity !== 'always')
  const action =
    options.onConflict === 'skip' || updates.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${updates.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`
  // xmax is 0 on a row this statement inserted, and set on one it updated.
  const {
    rows: [result],
  } = await client.query<{ inserted: number; updated: number }>(
    `WITH written AS (
       INSERT INTO ${name} (${list})${overriding} SELECT ${list} FROM pg_temp.${temp}
       ON CONFLICT${conflictTarget} ${action} RETURNING (xmax = 0) AS fresh)
     SELECT count(*) FILTER (WHERE fresh)::int AS inserted,
            count(*) FILTER (WHERE NOT fresh)::int AS updated FROM written`,
  )
  const inserted = result?.inserted ?? 0
  const updated = result?.updated ?? 0
  return { inserted, updated, skipped: total - inserted - updated }
}

/**
 * `restore --only-changed`: deletes the rows with these keys, 1000 a statement. Each key value
 * goes as its canonical text, which is the column type's own input form, cast to that type.
 */
export async function deleteKeys(
  client: pg.Client,
  target: ConnectionTarget,
  table: TableSchema,
  keys: CanonicalValue[][],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (keys.length === 0) return
  const key = (table.primaryKey?.columns ?? []).map((name) =>
    table.columns.find((column) => column.name === name)!,
  )
  const match = key
    .map((column, i) => `t.${quoteIdent(column.name)} = d.k${i}::${column.type}`)
    .join(' AND ')
  const sql = `DELETE FROM ${qualifiedName(table)} t
    USING unnest(${key.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS d(${key.map((_, i) => `k${i}`).join(', ')})
    WHERE ${match}`
  for (let at = 0; at < keys.length; at += 1000) {
    throwIfAborted(signal)
    const batch = keys.slice(at, at + 1000)
    const columns = key.map((_, i) =>
      batch.map((values) => (values[i] === null ? null : String(values[i]))),
    )
    await client.query(sql, columns).catch((err: unknown) => {
      throw postgresQueryError(err, target)
    })
  }
}

/**
 * Streams the rows into `COPY relation … FROM STDIN` (`relation` as SQL: the table, or the
 * temporary table an append goes through): in binary when the target's column types allow it
 * (postgres-copy-binary.ts) and the table is not a small one, else as text. A failure part-way
 * aborts the COPY (CopyFail).
 */
export async function copyRows(
  client: pg.Client,
  table: TableSchema,
  relation: string,
  rows: TableRows,
  signal: AbortSignal | undefined,
  counted: (rows: number) => void,
): Promise<void> {
  throwIfAborted(signal)
  const columns = copyColumns(table)
  const ahead = readAhead(rows.columns())
  const first = await ahead.next()
  let kinds: number[] | null = null
  try {
    if (first.done !== true && first.value.payload.byteLength >= BINARY_MIN_BYTES) {
      kinds = await binaryCopyKinds(client, relation, table, columns)
    }
  } catch (err) {
    await ahead.return()
    throw err
  }
  const statement = copyFromStatement(table, relation)
  const batches = prepend(first, ahead)
  const [sql, data] =
    kinds === null
      ? [statement, copyText(table, batches, counted)]
      : [`${statement} (FORMAT binary)`, copyBinary(table, columns, kinds, batches, counted)]
  const stream = client.query(copyFrom(sql))
  await pipeline(Readable.from(data, { objectMode: false }), stream, { signal })
}

/** `first`, read already, then the rest of its generator, closed however this one ends. */
async function* prepend<T>(
  first: IteratorResult<T, void>,
  rest: AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  try {
    if (first.done === true) return
    yield first.value
    yield* rest
  } finally {
    await rest.return()
  }
}

/**
 * `source` with its next batch asked for while the current one is written, so that fetching a
 * chunk from storage overlaps the COPY instead of stalling it.
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]()
  let next = iterator.next()
  // Its failure is awaited below; until then it must not count as unhandled.
  next.catch(() => undefined)
  let done = false
  try {
    for (;;) {
      const result = await next
      if (result.done === true) {
        done = true
        return
      }
      next = iterator.next()
      next.catch(() => undefined)
      yield result.value
    }
  } finally {
    if (!done) await iterator.return?.().catch(() => undefined)
  }
}
