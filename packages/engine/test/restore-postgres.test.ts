// Restore into PostgreSQL against a real server: exact round trips (snapshot, restore, snapshot
// again gives the same chunks and an empty diff) of every object kind, what PostgreSQL adds to
// the overwrite/append rules (foreign keys, columns), failure safety, and the psql script export.
// What every engine's target does (refusals, untouched tables, on-conflict, rollback) is in
// conformance/target-conformance.ts.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import type { TargetAdapter } from '../src/adapters/target-adapter.js'
import {
  BINARY_MIN_BYTES,
  binaryCopyKinds,
  copyBinary,
} from '../src/adapters/postgres/postgres-copy-binary.js'
import { postgresSql } from '../src/adapters/postgres/postgres-sql.js'
import type { CanonicalRow } from '../src/canonical/value-encoding.js'
import { connectTarget } from '../src/adapters/connect.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { isDbsnapError } from '../src/errors.js'
import { exportSnapshot } from '../src/export/export.js'
import { tableName } from '../src/schema/table-name.js'
import { rowsToColumnar } from '../src/repository/columnar.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import {
  readSnapshotRows,
  snapshotTableRows,
  tableRowsOf,
} from '../src/repository/snapshot-rows.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/postgres/${name}`, import.meta.url), 'utf8')

const databases: TestDatabase[] = []
async function database(prefix = 'dbsnap_it_restore'): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix)
  databases.push(db)
  return db
}
afterAll(async () => {
  for (const db of databases) await db.drop().catch(() => undefined)
})

let repository: Repository
beforeAll(async () => {
  repository = await Repository.open(new MemoryStorage(), { create: true })
})

async function snap(url: string, tables?: string[]): Promise<StoredSnapshot> {
  const { id } = await createSnapshot({ source: url, repository, tables })
  return { id, manifest: await repository.readManifest(id) }
}

async function restore(
  snapshot: StoredSnapshot,
  url: string,
  options: Omit<Parameters<typeof restoreSnapshot>[0], 'repository' | 'snapshot' | 'target'> = {},
): ReturnType<typeof restoreSnapshot> {
  const target = await connectTarget(url)
  try {
    return await restoreSnapshot({ repository, snapshot, target, ...options })
  } finally {
    await target.close()
  }
}

/** Chunk ids of each table, by table name. */
async function chunkIds(snapshot: StoredSnapshot): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const entry of snapshot.manifest.tables) {
    out[tableName(entry)] = (await repository.readIndex(entry.index)).map((chunk) => chunk.id)
  }
  return out
}

/** Schema changes and changed tables between two snapshots (both empty when equal). */
async function differences(
  a: StoredSnapshot,
  b: StoredSnapshot,
): Promise<{ schema: unknown[]; tables: string[] }> {
  const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
  for await (const _ of diff.rowChanges()) void _
  return {
    schema: diff.schema,
    tables: diff.tables.filter((t) => t.status !== 'unchanged').map((t) => t.table),
  }
}

async function expectSame(a: StoredSnapshot, b: StoredSnapshot): Promise<void> {
  expect(await chunkIds(b)).toEqual(await chunkIds(a))
  expect(await differences(a, b)).toEqual({ schema: [], tables: [] })
  // Sequence positions are left out of schema diffs (they are data): compared here.
  const positions = (s: StoredSnapshot): unknown =>
    s.manifest.schema.sequences.map((q) => [q.schema, q.name, q.lastValue])
  expect(positions(b)).toEqual(positions(a))
}

/** Loads the snapshot's SQL export (as `dbsnap export --format sql` writes it) with psql. */
async function loadExport(source: StoredSnapshot, target: TestDatabase): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dbsnap-sql-'))
  try {
    const file = join(dir, 'export.sql')
    const objects = {
      schema: source.manifest.schema,
      tables: source.manifest.schema.tables.filter((t) =>
        source.manifest.tables.some((e) => tableName(e) === tableName(t)),
      ),
      whole: true,
    }
    let text = postgresSql.preData(objects)
    for (const table of objects.tables) {
      const entry = source.manifest.tables.find((e) => tableName(e) === tableName(table))!
      for await (const piece of postgresSql.tableData(
        table,
        snapshotTableRows(repository, entry),
      )) {
        text += piece
      }
    }
    text += postgresSql.postData(objects)
    writeFileSync(file, text)
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', target.url, '-f', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function rows(db: TestDatabase, sql: string): Promise<unknown[]> {
  return (await db.client.query<Record<string, unknown>>(sql)).rows
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('expected a rejection')
}

/** binary-types.sql, which takes its first rows from all-types.sql. */
async function loadBinaryTypes(db: TestDatabase): Promise<void> {
  await db.client.query(fixture('all-types.sql'))
  await db.client.query(fixture('binary-types.sql'))
}

function batches<T>(...items: T[]): AsyncIterable<T> {
  return Readable.from(items) as AsyncIterable<T>
}

/** objects.sql plus what PostgreSQL 15+ adds (as the introspection test loads it). */
async function loadObjects(db: TestDatabase): Promise<void> {
  await db.client.query(fixture('objects.sql'))
  await db.client.query(
    'ALTER TABLE public.customers ADD CONSTRAINT customers_code_key UNIQUE NULLS NOT DISTINCT (code)',
  )
}

describe('PostgreSQL restore', () => {
  describe.each([
    ['all-types.sql', (db: TestDatabase) => db.client.query(fixture('all-types.sql'))],
    ['binary-types.sql', loadBinaryTypes],
    ['objects.sql', loadObjects],
  ] as const)('round trip of %s', (file, load) => {
    let source: StoredSnapshot
    beforeAll(async () => {
      const db = await database()
      await load(db)
      source = await snap(db.url)
    })

    it('restore into an empty database gives the same chunks and an empty diff', async () => {
      const target = await database()
      const result = await restore(source, target.url)
      expect(result.tables.every((t) => t.status === 'restored')).toBe(true)
      await expectSame(source, await snap(target.url))
      // Again over the restored database: views, keys into the tables and inheritance in place.
      const again = await restore(source, target.url, { force: true })
      await expectSame(source, await snap(target.url))
      if (file === 'objects.sql') {
        // event_log is inherited from: its rows are replaced; order_totals reads orders: dropped.
        expect(again.plan).toContainEqual({
          action: 'replace rows',
          object: 'public.event_log',
          destructive: true,
        })
        expect(again.plan).toContainEqual({ action: 'drop view', object: 'sales.order_totals' })
      }
    })

    it('the SQL script loaded by psql gives the same chunks and an empty diff', async () => {
      const target = await database()
      await loadExport(source, target)
      await expectSame(source, await snap(target.url))
    })
  })

  it('sends a table of built-in types as COPY BINARY, and any other as text', async () => {
    const db = await database()
    await loadBinaryTypes(db)
    const source = await snap(db.url)
    const target = await database()
    await restore(source, target.url)
    const kinds = async (name: string): Promise<number[] | null> => {
      const table = source.manifest.schema.tables.find((t) => t.name === name)!
      const columns = table.columns.map((_, i) => i)
      return binaryCopyKinds(target.client, `public.${name}`, table, columns)
    }
    // The round trips above prove the values exact; this, that they went in binary: the target
    // takes its types, and its first chunk is not one of a small table.
    expect(await kinds('binary_types')).toHaveLength(19)
    const entry = source.manifest.tables.find((t) => t.name === 'binary_types')!
    const [chunk] = await repository.readIndex(entry.index)
    const batch = await repository.readColumns(chunk!.id, entry.columns.length)
    expect(batch.payload.byteLength).toBeGreaterThanOrEqual(BINARY_MIN_BYTES)
    expect(await kinds('all_types')).toBeNull()
    // A column whose target type is not the one the snapshot read it from goes as text.
    await target.client.query('ALTER TABLE public.binary_types ALTER c_text TYPE varchar')
    expect(await kinds('binary_types')).toBeNull()
  })

  it("refuses a value that is not its type's output text as DATA_CORRUPT", async () => {
    const db = await database()
    await db.client.query('CREATE TABLE public.t (id int PRIMARY KEY, at timestamptz, b bytea)')
    await db.client.query("INSERT INTO public.t VALUES (1, '2024-01-01 00:00:00+00', '\\x00')")
    const source = await snap(db.url)
    const table = source.manifest.schema.tables.find((t) => t.name === 't')!
    const columns = [0, 1, 2]
    const kinds = (await binaryCopyKinds(db.client, 'public.t', table, columns))!
    expect(kinds).toHaveLength(3)
    const encode = async (line: string): Promise<void> => {
      const payload = rowsToColumnar(Buffer.from(`${line}\n`), 1, 3)
      for await (const _ of copyBinary(table, columns, kinds, batches({ rows: 1, payload }))) void _
    }
    await expect(encode('[1,"2024-01-01 00:00:00.5+00","\\\\x00ff"]')).resolves.toBeUndefined()
    for (const bad of ['"2024-01-01T00:00:00Z"', '"2024-02-30 00:00:00+00"', '"2024-01-01"', '1']) {
      await expect(encode(`[1,${bad},null]`)).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
    }
    for (const bad of ['"\\\\x0"', '"\\\\xzz"', '"00ff"', '"\\\\00ff"']) {
      await expect(encode(`[1,null,${bad}]`)).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
    }
    await expect(encode('[2147483648,null,null]')).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
  })

  it('a whole restore by the database owner who is no superuser leaves out only what needs one', async () => {
    const db = await database()
    await db.client.query(`
      CREATE TABLE public.t (id int PRIMARY KEY);
      INSERT INTO public.t VALUES (1);
      COMMENT ON TABLE public.t IS 'a table';
      CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
      CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION public.on_ddl();`)
    const source = await snap(db.url)
    const role = `dbsnap_it_owner_${process.pid}`
    const target = await database()
    await target.client.query(
      `CREATE ROLE ${role} LOGIN; ALTER DATABASE ${target.name} OWNER TO ${role}`,
    )
    try {
      const url = new URL(target.url)
      url.username = role
      const result = await restore(source, url.toString())
      expect(result.warnings).toEqual([
        'create event trigger on_ddl left out: permission denied to create event trigger "on_ddl"',
      ])
      expect(
        await rows(target, `SELECT id, obj_description('public.t'::regclass) AS c FROM public.t`),
      ).toEqual([{ id: 1, c: 'a table' }])
    } finally {
      await target.drop()
      await db.client.query(`DROP ROLE ${role}`)
    }
  })

  describe('rules and replica identity', () => {
    let db: TestDatabase
    let source: StoredSnapshot
    /** What the catalog says of them, as text, to compare the source with a restored copy. */
    const catalog = async (target: TestDatabase): Promise<unknown[]> =>
      rows(
        target,
        `SELECT c.relname::text AS relation, c.relreplident::text AS identity,
                (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  WHERE i.indrelid = c.oid AND i.indisreplident)::text AS replica_index,
                r.rulename::text AS rule, r.ev_enabled::text AS enabled,
                pg_get_ruledef(r.oid) AS definition
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename <> '_RETURN'
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')
          ORDER BY 1, 4`,
      )
    beforeAll(async () => {
      db = await database()
      await db.client.query(`
        CREATE TABLE public.items (id int PRIMARY KEY, code text NOT NULL, note text);
        CREATE UNIQUE INDEX items_code_idx ON public.items (code);
        ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_code_idx;
        CREATE TABLE public.audit (id int, what text);
        ALTER TABLE public.audit REPLICA IDENTITY FULL;
        CREATE TABLE public.quiet (id int PRIMARY KEY);
        ALTER TABLE public.quiet REPLICA IDENTITY NOTHING;
        CREATE RULE items_no_delete AS ON DELETE TO public.items DO INSTEAD NOTHING;
        CREATE RULE items_audit AS ON UPDATE TO public.items
          DO ALSO INSERT INTO public.audit VALUES (OLD.id, 'update');
        ALTER TABLE public.items DISABLE RULE items_audit;
        CREATE VIEW public.items_view AS SELECT id, code FROM public.items;
        CREATE RULE items_view_insert AS ON INSERT TO public.items_view
          DO INSTEAD INSERT INTO public.items (id, code) VALUES (NEW.id, NEW.code);
        INSERT INTO public.items VALUES (1, 'a', 'x'), (2, 'b', NULL);
        INSERT INTO public.audit VALUES (1, 'insert');`)
      source = await snap(db.url)
    })

    it('a restore into an empty database recreates them', async () => {
      const target = await database()
      await restore(source, target.url)
      expect(await catalog(target)).toEqual(await catalog(db))
      await expectSame(source, await snap(target.url))
    })

    it('the SQL script recreates them', async () => {
      const target = await database()
      await loadExport(source, target)
      expect(await catalog(target)).toEqual(await catalog(db))
    })

    it('schema diff reports a rule added, removed or changed and a replica identity changed', async () => {
      const changed = await database()
      await restore(source, changed.url)
      await changed.client.query(`
        DROP RULE items_no_delete ON public.items;
        CREATE RULE audit_no_delete AS ON DELETE TO public.audit DO INSTEAD NOTHING;
        ALTER TABLE public.items ENABLE RULE items_audit;
        ALTER TABLE public.audit REPLICA IDENTITY DEFAULT;
        ALTER TABLE public.quiet REPLICA IDENTITY FULL;`)
      const diff = await differences(source, await snap(changed.url))
      expect(
        diff.schema
          .map((c) => c as { change: string; kind: string; object: string })
          .map((c) => `${c.change} ${c.kind} ${c.object}`),
      ).toEqual([
        'added rule public.audit.audit_no_delete',
        'removed replica identity public.audit',
        'removed rule public.items.items_no_delete',
        'changed rule public.items.items_audit',
        'changed replica identity public.quiet',
      ])
    })
  })
  describe('of some tables of objects.sql', () => {
    let source: StoredSnapshot
    beforeAll(async () => {
      const db = await database()
      await loadObjects(db)
      source = await snap(db.url)
    })

    it('restores some tables into an empty database with the types, sequences and parents they need', async () => {
      const target = await database()
      const tables = ['public.customers', 'sales.orders', 'public.measurements_2024']
      await restore(source, target.url, { tables })
      const after = await snap(target.url)
      const [a, b] = [await chunkIds(source), await chunkIds(after)]
      for (const name of tables) expect(b[name]).toEqual(a[name])
      const diff = diffSnapshots(
        { repository, snapshot: source },
        { repository, snapshot: after },
        { tables, schemaOnly: true },
      )
      // The tables are as in the snapshot; only what they do not need is absent.
      expect(diff.schema.map((c) => `${c.change} ${c.kind} ${c.object}`)).toEqual([
        'removed schema Ünïcode Space',
        'removed sequence public.event_log_seq_seq',
        'removed sequence public.unused_seq',
        'removed view sales.big_orders',
        'removed view sales.order_totals',
        'removed routine public.add(a integer, b integer)',
        'removed routine public.add(a text, b text)',
        'removed routine public.biggest(integer)',
        'removed routine public.running_sum(integer)',
        'removed routine public.text_concat(text)',
        'removed routine sales.archive_orders(IN older_than interval)',
      ])
      expect(Object.keys(b).sort()).toEqual([...tables].sort())
    })
  })

  describe('into a database that has the tables', () => {
    let db: TestDatabase
    let original: StoredSnapshot
    beforeAll(async () => {
      db = await database()
      await db.client.query(`
        CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE orders (id serial PRIMARY KEY,
          item_id int REFERENCES items DEFERRABLE, qty int CHECK (qty > 0));
        CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text, n numeric,
          at timestamptz, doc jsonb, twice int GENERATED ALWAYS AS (id * 2) STORED);
        CREATE INDEX notes_body_idx ON notes (body);
        INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 50) i;
        INSERT INTO orders (item_id, qty) SELECT 1 + i % 50, 1 + i % 7 FROM generate_series(1, 200) i;
        INSERT INTO notes (body, n, at, doc) SELECT 'note ' || i, i / 7.0,
          '2024-01-01'::timestamptz + i * interval '1 hour', jsonb_build_object('i', i)
          FROM generate_series(1, 300) i;`)
      original = await snap(db.url)
    })

    /** Changes every table, so that a restore of some of them shows on those only. */
    async function changeAll(): Promise<StoredSnapshot> {
      await db.client.query(`
        UPDATE items SET name = name || ' (changed)' WHERE id % 3 = 0;
        INSERT INTO items VALUES (1000, 'new item');
        DELETE FROM orders WHERE id % 4 = 0;
        UPDATE orders SET qty = qty + 1 WHERE id % 5 = 0;
        DELETE FROM notes WHERE id > 250;
        UPDATE notes SET body = 'edited' WHERE id % 10 = 0;`)
      return snap(db.url)
    }

    it('replaces the rows of a table that a table not restored references (deferrable key)', async () => {
      await changeAll()
      const result = await restore(original, db.url, { tables: ['items'], force: true })
      expect(result.plan).toContainEqual({
        action: 'replace rows',
        object: 'public.items',
        destructive: true,
      })
      const after = await snap(db.url)
      expect((await chunkIds(after))['public.items']).toEqual(
        (await chunkIds(original))['public.items'],
      )
      expect(await rows(db, `SELECT count(*)::int AS n FROM orders`)).toEqual([{ n: 150 }])
    })

    it('refuses to replace a table a non-deferrable foreign key of another table reads', async () => {
      await db.client.query(`CREATE TABLE holds (item_id int REFERENCES items ON DELETE CASCADE);
        INSERT INTO holds VALUES (2);
        UPDATE items SET name = 'renamed' WHERE id = 2`)
      try {
        const err = await failure(restore(original, db.url, { tables: ['items'], force: true }))
        expect(err.code).toBe('RESTORE_FAILED')
        expect(err.message).toContain('holds_item_id_fkey on public.holds')
        expect(await rows(db, `SELECT name FROM items WHERE id = 2`)).toEqual([{ name: 'renamed' }])
        expect(await rows(db, `SELECT * FROM holds`)).toEqual([{ item_id: 2 }])
      } finally {
        await db.client.query('DROP TABLE holds')
      }
    })

    it('restores the whole snapshot over it with force, rerunnable', async () => {
      await restore(original, db.url, { force: true })
      await expectSame(original, await snap(db.url))
      await restore(original, db.url, { force: true })
      await expectSame(original, await snap(db.url))
    })

    it('refuses to append into a table whose columns differ', async () => {
      await db.client.query(`ALTER TABLE notes ADD COLUMN extra int`)
      try {
        const err = await failure(restore(original, db.url, { tables: ['notes'], mode: 'append' }))
        expect(err.code).toBe('TARGET_SCHEMA_MISMATCH')
        expect(err.message).toContain('not in the snapshot: extra')
      } finally {
        await db.client.query(`ALTER TABLE notes DROP COLUMN extra`)
      }
    })

    it('refuses a snapshot of another engine', async () => {
      const mysql: StoredSnapshot = {
        id: original.id,
        manifest: {
          ...original.manifest,
          source: { ...original.manifest.source, engine: 'mysql', product: 'MariaDB' },
        },
      }
      expect((await failure(restore(mysql, db.url))).code).toBe('TARGET_ENGINE_MISMATCH')
    })

    it('leaves a table as it was when its load fails part-way, and a rerun completes', async () => {
      await restore(original, db.url, { tables: ['notes'], force: true })
      const before = await snap(db.url, ['notes'])
      const table = original.manifest.schema.tables.find((t) => t.name === 'notes')!
      const entry = original.manifest.tables.find((t) => t.name === 'notes')!
      const objects = { schema: original.manifest.schema, tables: [table], whole: false }
      /** The snapshot's rows, then a row the server rejects or an error of the reader. */
      async function* broken(bad: 'value' | 'reader'): AsyncIterable<CanonicalRow[]> {
        let sent = 0
        for await (const batch of readSnapshotRows(repository, entry)) {
          yield batch
          sent += batch.length
          if (sent >= 150) break
        }
        if (bad === 'reader') throw new Error('chunk unreadable')
        // Well-formed for the client (which checks a numeric's text itself), not for the server.
        yield [[9999, 'x', null, null, '{not json', null]]
      }
      for (const bad of ['value', 'reader'] as const) {
        const target: TargetAdapter = await connectTarget(db.url)
        try {
          await target.prepare(objects, 'overwrite')
          const seen: number[] = []
          const err = await failure(
            target.restoreTable(table, tableRowsOf(broken(bad)), {
              mode: 'overwrite',
              onConflict: 'fail',
              onRows: (n) => seen.push(n),
            }),
          )
          expect(err.code).toBe('RESTORE_FAILED')
          expect(err.message).toContain(
            bad === 'value' ? 'invalid input syntax' : 'chunk unreadable',
          )
          expect(seen.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(150)
          // The connection is still usable after the failed COPY.
          expect((await target.inspect([table]))[0]?.rows).toBe(300)
        } finally {
          await target.close()
        }
        expect(await chunkIds(await snap(db.url, ['notes']))).toEqual(await chunkIds(before))
      }
      await restore(original, db.url, { force: true })
      await expectSame(original, await snap(db.url))
    })

    it('leaves a table as it was when the connection dies mid-COPY', async () => {
      const before = await snap(db.url, ['notes'])
      const table = original.manifest.schema.tables.find((t) => t.name === 'notes')!
      const entry = original.manifest.tables.find((t) => t.name === 'notes')!
      const target = await connectTarget(db.url, { applicationName: 'dbsnap_it_crash' })
      /** Half the rows, then the backend is killed while the COPY waits for more. */
      async function* rowsThenCrash(): AsyncIterable<CanonicalRow[]> {
        for await (const batch of readSnapshotRows(repository, entry)) {
          yield batch.slice(0, 150)
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
        await db.client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'dbsnap_it_crash' AND query LIKE 'COPY%'`,
        )
        await new Promise((resolve) => setTimeout(resolve, 200))
        yield []
      }
      try {
        await target.prepare(
          { schema: original.manifest.schema, tables: [table], whole: false },
          'overwrite',
        )
        const err = await failure(
          target.restoreTable(table, tableRowsOf(rowsThenCrash()), {
            mode: 'overwrite',
            onConflict: 'fail',
          }),
        )
        expect(err.code).toBe('CONNECTION_LOST')
      } finally {
        await target.close()
      }
      expect(await chunkIds(await snap(db.url, ['notes']))).toEqual(await chunkIds(before))
    })

    it('says which privileges the restoring user lacks, before writing anything', async () => {
      const empty = await database()
      const role = `dbsnap_it_noprivs_${process.pid}`
      await empty.client.query(`CREATE ROLE ${role} LOGIN`)
      try {
        const url = new URL(empty.url)
        url.username = role
        const err = await failure(restore(original, url.href))
        expect(err.code).toBe('CONNECTION_PRIVILEGE_MISSING')
        expect(err.message).toContain('CREATE on schema public')
      } finally {
        await empty.client.query(`DROP ROLE ${role}`)
      }
      expect(
        await rows(empty, `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'notes'`),
      ).toEqual([{ n: 0 }])
    })

    it('refuses a read-only target before writing anything', async () => {
      const ro = await database()
      await ro.client.query(`ALTER DATABASE ${ro.name} SET default_transaction_read_only = on`)
      const err = await failure(restore(original, ro.url))
      expect(err.code).toBe('TARGET_READ_ONLY')
      expect(
        await rows(ro, `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'notes'`),
      ).toEqual([{ n: 0 }])
    })
  })
})

describe('PostgreSQL restore of a snapshot taken with --tables', () => {
  let source: TestDatabase
  let partial: StoredSnapshot
  const leftOut = [
    'foreign key payment_rental_fkey of public.payment left out: the snapshot does not hold public.rental, which it needs',
    'materialized view public.paid left out: the snapshot does not hold public.rental, which it needs',
    'view public.rentals left out: the snapshot does not hold public.rental, which it needs',
    'view public.rental_count left out: the snapshot does not hold public.rentals, which it needs',
  ]
  /** Views, materialized views and foreign keys of the public schema, by name. */
  const dependents = async (db: TestDatabase): Promise<unknown[]> =>
    rows(
      db,
      `SELECT relname AS name FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm')
       UNION ALL SELECT conname FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND contype = 'f'
       ORDER BY 1`,
    )

  beforeAll(async () => {
    source = await database('dbsnap_it_partial')
    await source.client.query(`
      CREATE TABLE film (id int PRIMARY KEY, title text);
      CREATE TABLE rental (id int PRIMARY KEY, film int REFERENCES film);
      CREATE TABLE payment (id int PRIMARY KEY, rental int REFERENCES rental, film int REFERENCES film, amount numeric);
      INSERT INTO film VALUES (1, 'one'), (2, 'two');
      INSERT INTO rental VALUES (10, 1);
      INSERT INTO payment VALUES (100, 10, 1, 2.50);
      CREATE VIEW film_titles AS SELECT title FROM film;
      CREATE VIEW rentals AS SELECT r.id, f.title FROM rental r JOIN film f ON f.id = r.film;
      CREATE MATERIALIZED VIEW paid AS SELECT p.amount FROM payment p JOIN rental r ON r.id = p.rental;
      CREATE VIEW rental_count AS SELECT count(*) AS n FROM rentals;
    `)
    partial = await snap(source.url, ['film', 'payment'])
  })

  it('leaves out, with a warning each, the views and foreign keys that need a table it did not read', async () => {
    const target = await database()
    const result = await restore(partial, target.url)
    expect(result.warnings).toEqual(leftOut)
    expect(await dependents(target)).toEqual([
      { name: 'film_titles' },
      { name: 'payment_film_fkey' },
    ])
    expect(await rows(target, 'SELECT title FROM film_titles ORDER BY 1')).toEqual([
      { title: 'one' },
      { title: 'two' },
    ])
    expect(await rows(target, 'SELECT id, amount FROM payment')).toEqual([
      { id: 100, amount: '2.50' },
    ])
  })

  it('refuses --tables naming a table the snapshot did not read, as an unknown one', async () => {
    const target = await database()
    const err = await failure(restore(partial, target.url, { tables: ['rental'] }))
    expect(err.code).toBe('TABLE_NOT_FOUND')
    expect(err.message).toBe(`no table "rental" in snapshot ${partial.id.slice(0, 12)}`)
  })

  it('exports an SQL script that psql loads, with a comment line per object left out', async () => {
    const target = await database()
    let script = ''
    for await (const piece of exportSnapshot({ repository, snapshot: partial, format: 'sql' })) {
      script += piece
    }
    for (const line of leftOut) expect(script).toContain(`-- ${line}\n`)
    const directory = mkdtempSync(join(tmpdir(), 'dbsnap-partial-'))
    try {
      const file = join(directory, 'export.sql')
      writeFileSync(file, script)
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', target.url, '-f', file], {
        stdio: 'pipe',
      })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
    expect(await dependents(target)).toEqual([
      { name: 'film_titles' },
      { name: 'payment_film_fkey' },
    ])
  })
})
