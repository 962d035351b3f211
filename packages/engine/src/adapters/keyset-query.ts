// The keyset query both SQL readers (postgres-read.ts, mysql-read.ts) stream a table with: its
// columns in table order, ordered by the primary key, resumed after a key; each dialect says
// how it quotes names, selects a column, orders rows without a key and writes a key literal.

import type { CanonicalValue } from '../canonical/value-encoding.js'
import { DbsnapError } from '../errors.js'

/** How one SQL dialect spells the parts of a keyset query over columns described by `C`. */
export interface KeysetDialect<C extends { name: string }> {
  quote(name: string): string
  /** What the SELECT list reads of the column. */
  selectExpression(column: C, index: number): string
  /**
   * The ORDER BY term(s) of the column in a table without a primary key: together a total order
   * on the rows that does not depend on collations.
   */
  keylessOrder(column: C, index: number): string
  /** The column's value `value` (not null) as a literal; throws when it does not fit the column. */
  keyLiteral(column: C, index: number, value: CanonicalValue): string
  /** The column's type as a message names it. */
  typeName(column: C): string
}

/** The table a keyset query reads. */
export interface KeysetTable<C extends { name: string }> {
  columns: readonly C[]
  /** Primary-key column names in key order, or null for a table without one. */
  primaryKey: readonly string[] | null
}

/** The clauses of a keyset query; a dialect puts them into its statement. */
export interface KeysetQuery {
  /** The SELECT list. */
  select: string
  /** ` WHERE (k1, k2) > (v1, v2)`, or '' without `afterKey`. */
  where: string
  /** ` ORDER BY …`, or '' for a table without columns. */
  orderBy: string
}

/**
 * The clauses that read `table` (named `relation` in messages) in primary-key order, strictly
 * after `afterKey` when given; without a primary key, in the dialect's full-row order.
 *
 * @throws `INVALID_ARGUMENT` for a key column not among the columns, and for an `afterKey` of
 *   the wrong length, with a null, with a value that does not fit its column, or on a table
 *   without a primary key.
 *
 * @example
 * const { select, where, orderBy } = keysetQuery(dialect, table, '"public"."t"', [41])
 * const sql = `SELECT ${select} FROM "public"."t"${where}${orderBy}`
 */
export function keysetQuery<C extends { name: string }>(
  dialect: KeysetDialect<C>,
  table: KeysetTable<C>,
  relation: string,
  afterKey: readonly CanonicalValue[] | undefined,
): KeysetQuery {
  const select = table.columns.map((c, i) => dialect.selectExpression(c, i)).join(', ')
  let where = ''
  let order: string
  const primaryKey = table.primaryKey ?? []
  if (primaryKey.length > 0) {
    const keyColumns = primaryKey.map((name) => {
      const index = table.columns.findIndex((c) => c.name === name)
      if (index < 0) {
        throw new DbsnapError(
          'INVALID_ARGUMENT',
          `primary-key column ${JSON.stringify(name)} is not among the columns of ${relation}`,
        )
      }
      return index
    })
    order = keyColumns.map((i) => dialect.quote(table.columns[i]!.name)).join(', ')
    if (afterKey !== undefined) {
      if (afterKey.length !== keyColumns.length) {
        throw new DbsnapError(
          'INVALID_ARGUMENT',
          `afterKey for ${relation} must have ${keyColumns.length} values (the primary key), got ${afterKey.length}`,
        )
      }
      const literals = keyColumns.map((index, i) =>
        keyLiteral(dialect, table.columns[index]!, index, afterKey[i] ?? null, relation),
      )
      // A row comparison orders like ORDER BY over the same columns, and uses the key's index.
      where = ` WHERE (${order}) > (${literals.join(', ')})`
    }
  } else {
    if (afterKey !== undefined) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `afterKey needs a primary key, and ${relation} has none (its rows are read whole)`,
      )
    }
    order = table.columns.map((c, i) => dialect.keylessOrder(c, i)).join(', ')
  }
  return { select, where, orderBy: order === '' ? '' : ` ORDER BY ${order}` }
}

function keyLiteral<C extends { name: string }>(
  dialect: KeysetDialect<C>,
  column: C,
  index: number,
  value: CanonicalValue,
  relation: string,
): string {
  if (value === null) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `afterKey for ${relation} has null for key column ${JSON.stringify(column.name)}`,
    )
  }
  try {
    return dialect.keyLiteral(column, index, value)
  } catch (cause) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `afterKey value ${JSON.stringify(value)} does not fit ${dialect.typeName(column)} key column ${JSON.stringify(column.name)} of ${relation}`,
      { cause },
    )
  }
}
