// The contract of `TargetAdapter` (src/adapters/target-adapter.ts), tested the same way on every
// engine against its real server, through `restoreSnapshot` as `dbsnap restore` drives it. Each
// engine's `*.target-conformance.test.ts` supplies a fixture that holds tables of `[id, name]`
// rows its way; engine-specific skips carry their reason.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TableRows } from '../../src/adapters/target-adapter.js'
import type { CanonicalRow } from '../../src/canonical/value-encoding.js'
import { connectTarget } from '../../src/adapters/connect.js'
import type { Engine } from '../../src/connection/url.js'
import { diffSnapshots } from '../../src/diff/diff.js'
import { isDbsnapError, type DbsnapError } from '../../src/errors.js'
import { Repository, type StoredSnapshot } from '../../src/repository/repository.js'
import { restoreSnapshot, type RestoreOptions } from '../../src/restore/restore.js'
import { tableName } from '../../src/schema/table-name.js'
import { readSnapshotRows, tableRowsOf } from '../../src/repository/snapshot-rows.js'
import { createSnapshot } from '../../src/snapshot/snapshot.js'
import { MemoryStorage } from '../../src/storage/memory/memory-storage.js'

/** A row of a conformance table: its key and a name. */
export type Row = [id: number, name: string]

/**
 * One engine's way of holding tables of `[id, name]` rows (SQL: `id` integer primary key, `name`
 * text; MongoDB: documents `{_id: id, name}`). Changes go through connections of its own.
 */
export interface TargetFixture {
  engine: Engine
  /** A new database holding `tables` (a table per entry, with those rows); returns its URL. */
  database(label: string, tables: Record<string, Row[]>): Promise<string>
  /** The rows of `table` in `url`'s database, by id. */
  rows(url: string, table: string): Promise<Row[]>
  /** Replaces every row of `table`, which exists, by `rows`. */
  setRows(url: string, table: string, rows: Row[]): Promise<void>
  /** How results and messages name `table`: `public.items`, `items`. */
  tableName(table: string): string
  /** What the TARGET_CONFLICT message says of the key `id` found already there. */
  conflict(id: number): RegExp
  /** Drops the databases and closes the fixture's connections. */
  destroy(): Promise<void>
  /** Contract tests this engine cannot pass, by name, with the reason. */
  skips?: Partial<Record<TargetConformanceTest, string>>
}

export type TargetConformanceTest =
  | 'identifies the server'
  | 'round trip'
  | 'refuses without force'
  | 'leaves other tables untouched'
  | 'on-conflict fail'
  | 'on-conflict skip'
  | 'on-conflict update'
  | 'appends into an empty or missing table'
  | 'rolls back on failure'

/** Rows `first`…`first + count - 1`, named `item <id>`. */
export function numbered(first: number, count: number, name = 'item'): Row[] {
  return Array.from({ length: count }, (_, i): Row => [first + i, `${name} ${first + i}`])
}

/**
 * Rows of the appended table: more than one write batch of every engine (1,000 rows), so that a
 * failure late in the table comes after rows were written.
 */
const APPEND_ROWS = 2500

/** Registers the target conformance suite for one engine. */
export function describeTargetConformance(fixture: TargetFixture): void {
  describe(`${fixture.engine} target conformance`, () => {
    let repository: Repository

    const test = (name: TargetConformanceTest, fn: () => Promise<void>): void => {
      const reason = fixture.skips?.[name]
      if (reason === undefined) it(name, fn)
      else it.skip(`${name} (skipped: ${reason})`, fn)
    }

    const snapshot = async (url: string): Promise<StoredSnapshot> => {
      const { id } = await createSnapshot({ source: url, repository })
      return { id, manifest: await repository.readManifest(id) }
    }

    const restore = async (
      snap: StoredSnapshot,
      url: string,
      options: Partial<Omit<RestoreOptions, 'repository' | 'snapshot' | 'target'>> = {},
    ): Promise<Awaited<ReturnType<typeof restoreSnapshot>>> => {
      const target = await connectTarget(url)
      try {
        return await restoreSnapshot({ repository, snapshot: snap, target, ...options })
      } finally {
        await target.close()
      }
    }

    /** Chunk index ids per table: equal ids mean byte-identical canonical rows. */
    const chunks = (snap: StoredSnapshot): Record<string, string> =>
      Object.fromEntries(snap.manifest.tables.map((t) => [tableName(t), t.index]))

    beforeAll(async () => {
      repository = await Repository.open(new MemoryStorage(), { create: true })
    })

    afterAll(async () => {
      await fixture.destroy()
    })

    test('identifies the server', async () => {
      // The source and the target are databases of one server: the same product and version.
      const snap = await snapshot(await fixture.database('id_src', { items: numbered(1, 3) }))
      const url = await fixture.database('id_dst', {})
      const target = await connectTarget(url)
      try {
        const { database: sourceDatabase, ...server } = snap.manifest.source
        const { database, ...identity } = await target.identify()
        expect(identity).toEqual(server)
        expect(database).not.toBe(sourceDatabase)
        expect(database).toBe(new URL(url).pathname.slice(1))
      } finally {
        await target.close()
      }
    })

    test('round trip', async () => {
      const source = await fixture.database('rt_src', {
        items: numbered(1, 3000),
        others: numbered(1, 40, 'other'),
        empty: [],
      })
      const snap = await snapshot(source)
      const copy = await fixture.database('rt_dst', {})
      const result = await restore(snap, copy)
      expect(result.tables.map((t) => [t.table, t.before, t.inserted]).sort()).toEqual(
        [
          [fixture.tableName('empty'), null, 0],
          [fixture.tableName('items'), null, 3000],
          [fixture.tableName('others'), null, 40],
        ].sort(),
      )
      const again = await snapshot(copy)
      expect(chunks(again)).toEqual(chunks(snap))
      const diff = diffSnapshots({ repository, snapshot: snap }, { repository, snapshot: again })
      expect(diff.schema).toEqual([])
      expect(diff.tables.every((t) => t.status === 'unchanged')).toBe(true)
    })

    test('refuses without force', async () => {
      const snap = await snapshot(await fixture.database('nf_src', { items: numbered(1, 30) }))
      const url = await fixture.database('nf_dst', { items: numbered(20, 30, 'live') })
      const err = await failure(restore(snap, url))
      expect(err.code).toBe('TARGET_NOT_EMPTY')
      expect(err.message).toContain(`${fixture.tableName('items')} (30 rows)`)
      expect(await fixture.rows(url, 'items')).toEqual(numbered(20, 30, 'live'))
    })

    test('leaves other tables untouched', async () => {
      const url = await fixture.database('sel', {
        items: numbered(1, 50),
        others: numbered(1, 50, 'other'),
      })
      const snap = await snapshot(url)
      await fixture.setRows(url, 'items', numbered(5, 10, 'changed'))
      await fixture.setRows(url, 'others', numbered(3, 7, 'changed'))
      const result = await restore(snap, url, { tables: ['items'], force: true })
      const items = fixture.tableName('items')
      expect(result.tables.map((t) => [t.table, t.before, t.inserted])).toEqual([
        [items, { rows: 10 }, 50],
      ])
      expect(result.plan.filter((s) => s.destructive === true).map((s) => s.object)).toEqual([
        items,
      ])
      expect(await fixture.rows(url, 'items')).toEqual(numbered(1, 50))
      expect(await fixture.rows(url, 'others')).toEqual(numbered(3, 7, 'changed'))
    })

    describe('append', () => {
      let snap: StoredSnapshot
      beforeAll(async () => {
        snap = await snapshot(await fixture.database('ap_src', { items: numbered(1, APPEND_ROWS) }))
      })

      test('on-conflict fail', async () => {
        // The key already there comes after two full batches were written: they go again.
        const live: Row[] = [[2100, 'live'], ...numbered(9000, 2, 'live only')]
        const url = await fixture.database('ap_fail', { items: live })
        const err = await failure(restore(snap, url, { mode: 'append', onConflict: 'fail' }))
        expect(err.code).toBe('TARGET_CONFLICT')
        expect(err.message).toMatch(fixture.conflict(2100))
        expect(await fixture.rows(url, 'items')).toEqual(live)
      })

      test('on-conflict skip', async () => {
        const live: Row[] = [...numbered(5, 3, 'live'), ...numbered(2400, 2, 'live')]
        const url = await fixture.database('ap_skip', { items: live })
        const result = await restore(snap, url, { mode: 'append', onConflict: 'skip' })
        expect(result.tables[0]).toMatchObject({
          inserted: APPEND_ROWS - 5,
          skipped: 5,
          updated: 0,
        })
        const rows = await fixture.rows(url, 'items')
        expect(rows).toHaveLength(APPEND_ROWS)
        expect(rows.filter(([, name]) => name.startsWith('live'))).toEqual(live)
      })

      test('on-conflict update', async () => {
        const url = await fixture.database('ap_update', {
          items: [...numbered(5, 3, 'live'), [9000, 'live only']],
        })
        const result = await restore(snap, url, { mode: 'append', onConflict: 'update' })
        expect(result.tables[0]).toMatchObject({
          inserted: APPEND_ROWS - 3,
          updated: 3,
          skipped: 0,
        })
        expect(await fixture.rows(url, 'items')).toEqual([
          ...numbered(1, APPEND_ROWS),
          [9000, 'live only'],
        ])
      })

      test('appends into an empty or missing table', async () => {
        const empty = await fixture.database('ap_empty', { items: [] })
        const into = await restore(snap, empty, { mode: 'append' })
        expect(into.tables[0]).toMatchObject({
          before: { rows: 0 },
          inserted: APPEND_ROWS,
          updated: 0,
          skipped: 0,
        })
        expect(await fixture.rows(empty, 'items')).toEqual(numbered(1, APPEND_ROWS))
        const missing = await fixture.database('ap_missing', {})
        const created = await restore(snap, missing, { mode: 'append' })
        expect(created.tables[0]).toMatchObject({ before: null, inserted: APPEND_ROWS })
        expect(await fixture.rows(missing, 'items')).toEqual(numbered(1, APPEND_ROWS))
      })

      test('rolls back on failure', async () => {
        // The rows stop with a reader error after two full batches were written.
        const live: Row[] = numbered(9000, 3, 'live')
        const url = await fixture.database('ap_broken', { items: live })
        const table = snap.manifest.schema.tables.find((t) => t.name === 'items')!
        const entry = snap.manifest.tables.find((t) => t.name === 'items')!
        let sent = 0
        async function* broken(): AsyncIterable<CanonicalRow[]> {
          for await (const batch of readSnapshotRows(repository, entry)) {
            yield batch
            sent += batch.length
            if (sent >= 2000) break
          }
          throw new Error('chunk unreadable')
        }
        const rows: TableRows = tableRowsOf(broken())
        const target = await connectTarget(url)
        try {
          const objects = { schema: snap.manifest.schema, tables: [table], whole: false }
          await target.prepare(objects, 'append')
          const err = await failure(
            target.restoreTable(table, rows, { mode: 'append', onConflict: 'fail' }),
          )
          expect(err.code).toBe('RESTORE_FAILED')
          expect(err.message).toContain('chunk unreadable')
          expect(sent).toBeGreaterThanOrEqual(2000)
          // The connection is still usable after the failed load.
          expect((await target.inspect([table]))[0]?.rows).toBe(live.length)
        } finally {
          await target.close()
        }
        expect(await fixture.rows(url, 'items')).toEqual(live)
      })
    })
  })
}

/** The DbsnapError a promise rejects with (fails when it resolves or rejects otherwise). */
async function failure(promise: Promise<unknown>): Promise<DbsnapError> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return err
    throw err
  }
  throw new Error('expected a DbsnapError')
}
