// The contract of `SourceAdapter` and `ReadView` (src/adapters/source-adapter.ts), tested the same
// way on every engine against its real server. Each engine's `*.conformance.test.ts` supplies a
// fixture that creates the `items` table its way; engine-specific skips carry their reason.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SourceAdapter } from '../../src/adapters/source-adapter.js'
import type { CanonicalRow, CanonicalValue } from '../../src/canonical/value-encoding.js'
import { connect } from '../../src/adapters/connect.js'
import type { Engine } from '../../src/connection/url.js'
import { isDbsnapError, type ErrorCode } from '../../src/errors.js'
import type { QualifiedName, TableSchema } from '../../src/schema/schema.js'

/** Rows of `items`: enough for several batches and chunks, few enough to load in a second. */
export const ITEM_ROWS = 5_000

/**
 * One engine's way of holding `items`: ids 1…n, each with a name (`item <id>`) and a quantity
 * (`id % 7`). Changes go through a connection of the fixture's own, outside any read view.
 */
export interface ConformanceFixture {
  engine: Engine
  /** Where the table lives, as introspection names it. */
  table: QualifiedName
  /** The columns introspection reports, in order, and the primary key. */
  columns: string[]
  primaryKey: string[]
  /** Creates a fresh database holding `items` with ids 1…rows; returns its URL. */
  create(rows: number): Promise<string>
  insert(id: number): Promise<void>
  remove(id: number): Promise<void>
  dropItems(): Promise<void>
  /** Drops the database and closes the fixture's connections. */
  destroy(): Promise<void>
  /** The id of a canonical row of `items`. */
  idOf(row: CanonicalRow): number
  /** The canonical key of an id, as `readTable`'s `afterKey` takes it. */
  keyOf(id: number): CanonicalValue[]
  /**
   * Whether a statement needing `items` to itself is refused at once (none is left waiting): true
   * while a read view's transaction holds the table. Absent where views hold no locks.
   */
  lockedByReaders?: () => Promise<boolean>
  /** `url` with credentials the server refuses (a wrong password where the server asks one). */
  wrongCredentials(url: string): string
  /** Contract tests this engine cannot pass, by name, with the reason. */
  skips?: Partial<Record<ConformanceTest, string>>
}

export type ConformanceTest =
  'sees one moment' | 'refuses wrong credentials' | 'reports a table dropped before it is read'

/** Registers the conformance suite for one engine. */
export function describeAdapterConformance(fixture: ConformanceFixture): void {
  describe(`${fixture.engine} adapter conformance`, () => {
    let url: string
    const open: SourceAdapter[] = []

    const adapter = async (): Promise<SourceAdapter> => {
      const source = await connect(url, { timeoutMs: 10_000 })
      open.push(source)
      return source
    }

    const itemsOf = async (source: SourceAdapter): Promise<TableSchema> => {
      const view = await source.openReadView()
      const schema = await view.introspect()
      await view.close()
      return findItems(schema.tables)
    }

    const findItems = (tables: TableSchema[]): TableSchema => {
      const found = tables.find(
        (t) => t.schema === fixture.table.schema && t.name === fixture.table.name,
      )
      if (found === undefined) throw new Error(`introspection did not find ${fixture.table.name}`)
      return found
    }

    /** Reads a table through a fresh view; the ids in the order they came, and the batches. */
    const readIds = async (
      source: SourceAdapter,
      options: { afterKey?: CanonicalValue[] } = {},
    ): Promise<{ ids: number[]; batches: number[] }> => {
      const view = await source.openReadView()
      try {
        const table = findItems((await view.introspect()).tables)
        const ids: number[] = []
        const batches: number[] = []
        for await (const batch of view.readTable(table, options)) {
          batches.push(batch.length)
          for (const row of batch) ids.push(fixture.idOf(row))
        }
        return { ids, batches }
      } finally {
        await view.close()
      }
    }

    const testOrSkip = (name: ConformanceTest, body: () => Promise<void>): void => {
      const reason = fixture.skips?.[name]
      if (reason === undefined) it(name, body)
      else it.skip(`${name} (skipped on ${fixture.engine}: ${reason})`, body)
    }

    beforeAll(async () => {
      url = await fixture.create(ITEM_ROWS)
    })

    afterAll(async () => {
      for (const source of open) await source.close()
      await fixture.destroy()
    })

    it('describes the server it reached, with no secret in it', async () => {
      const source = await adapter()
      const description = await source.describe()
      expect(description.engine).toBe(fixture.engine)
      expect(description.serverVersion).not.toBe('')
      const password = new URL(url).password
      if (password !== '') expect(JSON.stringify(description)).not.toContain(password)
    })

    it('identifies the server as its description does, and says nothing more', async () => {
      const source = await adapter()
      const { engine, product, serverVersion, host, port, database } = await source.describe()
      expect(await source.identify()).toEqual({
        engine,
        product,
        serverVersion,
        host,
        port,
        database,
      })
    })

    it('introspects the table with its columns and primary key', async () => {
      const table = await itemsOf(await adapter())
      expect(table.columns.map((c) => c.name)).toEqual(fixture.columns)
      expect(table.primaryKey?.columns).toEqual(fixture.primaryKey)
    })

    it('reads every row once, in key order, in bounded batches', async () => {
      const { ids, batches } = await readIds(await adapter())
      expect(ids).toEqual(Array.from({ length: ITEM_ROWS }, (_, i) => i + 1))
      expect(batches.length).toBeGreaterThan(1)
      expect(Math.max(...batches)).toBeLessThan(ITEM_ROWS)
    })

    it('resumes after a key', async () => {
      const { ids } = await readIds(await adapter(), { afterKey: fixture.keyOf(4_990) })
      expect(ids).toEqual([4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999, 5_000])
    })

    it('stops a read the consumer leaves early and reads again on the same view', async () => {
      const source = await adapter()
      const view = await source.openReadView()
      try {
        const table = findItems((await view.introspect()).tables)
        for await (const batch of view.readTable(table)) {
          expect(batch.length).toBeGreaterThan(0)
          break
        }
        let rows = 0
        for await (const batch of view.readTable(table)) rows += batch.length
        expect(rows).toBe(ITEM_ROWS)
      } finally {
        await view.close()
      }
    })

    it('rejects with ABORTED when the signal aborts mid-read', async () => {
      const source = await adapter()
      const view = await source.openReadView()
      const controller = new AbortController()
      try {
        const table = findItems((await view.introspect()).tables)
        const read = async (): Promise<void> => {
          for await (const _batch of view.readTable(table, { signal: controller.signal })) {
            controller.abort()
          }
        }
        await expectCode(read(), 'ABORTED')
      } finally {
        await view.close()
      }
    })

    testOrSkip('sees one moment', async () => {
      const source = await adapter()
      const view = await source.openReadView()
      try {
        const table = findItems((await view.introspect()).tables)
        await fixture.insert(ITEM_ROWS + 1)
        await fixture.remove(1)
        const ids: number[] = []
        for await (const batch of view.readTable(table))
          ids.push(...batch.map((row) => fixture.idOf(row)))
        expect(ids.length).toBe(ITEM_ROWS)
        expect(ids[0]).toBe(1)
        expect(ids.at(-1)).toBe(ITEM_ROWS)
      } finally {
        await view.close()
        await fixture.remove(ITEM_ROWS + 1)
        await fixture.insert(1)
      }
    })

    testOrSkip('refuses wrong credentials', async () => {
      const wrong = fixture.wrongCredentials(url)
      const error = await expectCode(connect(wrong, { timeoutMs: 10_000 }), [
        'CONNECTION_AUTH_FAILED',
      ])
      const password = decodeURIComponent(new URL(wrong).password)
      if (password !== '')
        expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(password)
    })

    it('closes views and connections idempotently', async () => {
      const source = await connect(url, { timeoutMs: 10_000 })
      const view = await source.openReadView()
      await view.close()
      await view.close()
      await source.close()
      await source.close()
    })

    // Where views hold locks: a MongoDB read view holds none.
    const lockedByReaders = fixture.lockedByReaders
    if (lockedByReaders !== undefined)
      it('ends an open read view, readers included, when the adapter is closed', async () => {
        const source = await connect(url, { timeoutMs: 10_000 })
        const view = await source.openReadView({ readers: 2 })
        const table = findItems((await view.introspect()).tables)
        const readers = view.readers ?? [view]
        expect(readers).toHaveLength(2)
        // Each reader's transaction holds the table once it has read it.
        for (const reader of readers) {
          expect(await (reader.claim?.(table) ?? true)).toBe(true)
          for await (const _batch of reader.readTable(table)) {
            // Read to the end.
          }
        }
        expect(await lockedByReaders()).toBe(true)
        // No view.close(): closing the adapter ends every transaction of the view. The server
        // ends them once told, as libpq leaves it to: without waiting, at once after.
        await source.close()
        const deadline = Date.now() + 5_000
        while ((await lockedByReaders()) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        expect(await lockedByReaders()).toBe(false)
      })

    // Last: it drops the table the other tests read.
    testOrSkip('reports a table dropped before it is read', async () => {
      const source = await adapter()
      const view = await source.openReadView()
      try {
        const table = findItems((await view.introspect()).tables)
        await fixture.dropItems()
        const read = async (): Promise<void> => {
          for await (const _batch of view.readTable(table)) {
            // Rows of a dropped table must not arrive silently.
          }
        }
        await expectCode(read(), ['TABLE_NOT_FOUND', 'SOURCE_CHANGED'])
      } finally {
        await view.close()
      }
    })
  })
}

/** Awaits a promise that must reject with a `DbsnapError` of one of `codes`; returns the error. */
async function expectCode(
  promise: Promise<unknown>,
  codes: ErrorCode | ErrorCode[],
): Promise<Error & { code: ErrorCode }> {
  const expected = Array.isArray(codes) ? codes : [codes]
  try {
    await promise
  } catch (err) {
    if (!isDbsnapError(err)) throw err
    expect(expected).toContain(err.code)
    return err
  }
  throw new Error(`expected a rejection with ${expected.join(' or ')}, but it resolved`)
}
