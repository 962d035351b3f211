import { describe, expect, it } from 'vitest'
import { keysetQuery, type KeysetDialect } from './keyset-query.js'

interface Column {
  name: string
  type: string
}

/** A dialect that shows which hook wrote what. */
const dialect: KeysetDialect<Column> = {
  quote: (name) => `"${name}"`,
  selectExpression: (column, i) => `sel${i}("${column.name}")`,
  keylessOrder: (column) => `ord("${column.name}")`,
  keyLiteral: (column, _i, value) => {
    if (column.type === 'int' && typeof value !== 'number') throw new Error('not a number')
    return `lit(${JSON.stringify(value)})`
  },
  typeName: (column) => column.type,
}

const columns = [
  { name: 'a', type: 'int' },
  { name: 'b', type: 'text' },
]

describe('keysetQuery', () => {
  it('orders by the key and resumes after a key with a row comparison', () => {
    const table = { columns, primaryKey: ['b', 'a'] }
    expect(keysetQuery(dialect, table, 't', undefined)).toEqual({
      select: 'sel0("a"), sel1("b")',
      where: '',
      orderBy: ' ORDER BY "b", "a"',
    })
    expect(keysetQuery(dialect, table, 't', ['x', 1]).where).toBe(
      ' WHERE ("b", "a") > (lit("x"), lit(1))',
    )
  })

  it("orders a table without a key by the dialect's full-row order", () => {
    const table = { columns, primaryKey: null }
    expect(keysetQuery(dialect, table, 't', undefined).orderBy).toBe(' ORDER BY ord("a"), ord("b")')
    expect(keysetQuery(dialect, { columns: [], primaryKey: null }, 't', undefined).orderBy).toBe('')
  })

  it.each([
    [{ columns, primaryKey: ['c'] }, undefined, /primary-key column "c" is not among/],
    [{ columns, primaryKey: ['a'] }, [1, 2], /must have 1 values \(the primary key\), got 2/],
    [{ columns, primaryKey: ['a'] }, [null], /has null for key column "a"/],
    [{ columns, primaryKey: ['a'] }, ['x'], /"x" does not fit int key column "a" of t/],
    [{ columns, primaryKey: null }, [1], /afterKey needs a primary key/],
  ])('refuses a bad key spec or afterKey (%#)', (table, afterKey, message) => {
    expect(() => keysetQuery(dialect, table, 't', afterKey)).toThrow(message)
    try {
      keysetQuery(dialect, table, 't', afterKey)
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })
})
