// Rows a restore writes into PostgreSQL are the snapshot's, whatever user triggers the target
// table has (pg_restore --disable-triggers): overwrite, append with update, and --only-changed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { connectTarget } from '../src/adapters/connect.js'
import { diffLive } from '../src/diff/live-diff.js'
import { isDbsnapError } from '../src/errors.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreChangedRows } from '../src/restore/only-changed.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

/**
 * A table whose triggers would each change a restored row: a BEFORE UPDATE one stamping the
 * time, a BEFORE INSERT one upper-casing the title, and a REPLICA and an ALWAYS one adding to
 * the rating (the first fires only under session_replication_role = replica, the second under
 * every role). Made after the rows, so the rows are as inserted; a view reads it.
 */
const SETUP = `
  CREATE TABLE public.films (
    id int PRIMARY KEY,
    title text NOT NULL,
    rating int NOT NULL,
    last_update timestamptz NOT NULL
  );
  INSERT INTO public.films VALUES
    (1, 'alien', 8, '2020-01-01 00:00:00+00'),
    (2, 'brazil', 7, '2020-01-02 00:00:00+00'),
    (3, 'cube', 6, '2020-01-03 00:00:00+00');
  CREATE TABLE public.reviews (
    id int PRIMARY KEY,
    film_id int NOT NULL REFERENCES public.films (id) DEFERRABLE
  );
  INSERT INTO public.reviews VALUES (1, 1);
  CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN NEW.last_update := now(); RETURN NEW; END $$;
  CREATE FUNCTION public.shout() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$;
  CREATE FUNCTION public.bump() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN NEW.rating := NEW.rating + 100; RETURN NEW; END $$;
  CREATE TRIGGER films_touch BEFORE UPDATE ON public.films
    FOR EACH ROW EXECUTE FUNCTION public.touch();
  CREATE TRIGGER films_shout BEFORE INSERT ON public.films
    FOR EACH ROW EXECUTE FUNCTION public.shout();
  CREATE TRIGGER films_replica BEFORE INSERT OR UPDATE ON public.films
    FOR EACH ROW EXECUTE FUNCTION public.bump();
  ALTER TABLE public.films ENABLE REPLICA TRIGGER films_replica;
  CREATE TRIGGER films_always BEFORE INSERT OR UPDATE ON public.films
    FOR EACH ROW EXECUTE FUNCTION public.bump();
  ALTER TABLE public.films ENABLE ALWAYS TRIGGER films_always;
  CREATE VIEW public.film_titles AS SELECT id, title FROM public.films;`

/** Changes every trigger would act on: updates, a delete, an insert. */
const CHANGE = `
  UPDATE public.films SET title = 'x', rating = 1 WHERE id = 1;
  UPDATE public.films SET rating = rating + 1 WHERE id = 3;`
const CHANGE_MORE = `${CHANGE}
  DELETE FROM public.films WHERE id = 2;
  INSERT INTO public.films VALUES (4, 'dune', 9, now());`

const TRIGGER_STATES = `SELECT tgname::text AS name, tgenabled::text AS enabled FROM pg_trigger
  WHERE tgrelid = 'public.films'::regclass AND NOT tgisinternal ORDER BY 1`

describe('PostgreSQL restore and user triggers', () => {
  let repository: Repository
  let db: TestDatabase
  let snapshot: StoredSnapshot
  let states: unknown[]

  beforeAll(async () => {
    repository = await Repository.open(new MemoryStorage(), { create: true })
    db = await createTestDatabase('dbsnap_it_triggers')
    await db.client.query(SETUP)
    const { id } = await createSnapshot({ source: db.url, repository })
    snapshot = { id, manifest: await repository.readManifest(id) }
    states = (await db.client.query(TRIGGER_STATES)).rows
  })
  afterAll(async () => {
    await db.drop()
  })

  /** Row and schema differences between the snapshot and the live database. */
  async function liveDifferences(): Promise<{ schema: unknown[]; tables: string[] }> {
    const diff = await diffLive({ repository, snapshot }, db.url)
    try {
      for await (const _ of diff.rowChanges()) void _
      return {
        schema: diff.schema,
        tables: diff.tables.filter((t) => t.status !== 'unchanged').map((t) => t.table),
      }
    } finally {
      await diff.close()
    }
  }

  async function restore(options: Partial<Parameters<typeof restoreSnapshot>[0]>): Promise<void> {
    const target = await connectTarget(db.url)
    try {
      await restoreSnapshot({ repository, snapshot, target, ...options })
    } finally {
      await target.close()
    }
  }

  async function expectSnapshotRows(): Promise<void> {
    expect(await liveDifferences()).toEqual({ schema: [], tables: [] })
    expect((await db.client.query(TRIGGER_STATES)).rows).toEqual(states)
  }

  it.each([1, 2])('overwrite of the table a view keeps (run %i)', async () => {
    await db.client.query(CHANGE_MORE)
    await restore({ tables: ['public.films'], force: true })
    await expectSnapshotRows()
  })

  it.each([1, 2])('append with --on-conflict update (run %i)', async () => {
    await db.client.query(CHANGE)
    await restore({ tables: ['public.films'], mode: 'append', onConflict: 'update' })
    await expectSnapshotRows()
  })

  it.each([1, 2])('--only-changed (run %i)', async () => {
    await db.client.query(CHANGE_MORE)
    const target = await connectTarget(db.url)
    try {
      await restoreChangedRows({ repository, snapshot, target, url: db.url })
    } finally {
      await target.close()
    }
    await expectSnapshotRows()
  })

  it('refuses, before writing, to append as a user who cannot turn the triggers off', async () => {
    const role = `dbsnap_it_appender_${process.pid}`
    await db.client.query(`CREATE ROLE ${role} LOGIN;
      GRANT SELECT, INSERT, UPDATE, DELETE ON public.films TO ${role}`)
    const url = new URL(db.url)
    url.username = role
    const target = await connectTarget(url.toString())
    let message = ''
    try {
      await restoreSnapshot({
        repository,
        snapshot,
        target,
        tables: ['public.films'],
        mode: 'append',
        onConflict: 'update',
      })
    } catch (err) {
      message = isDbsnapError(err) ? `${err.code}: ${err.message}` : String(err)
    } finally {
      await target.close()
      await db.client.query(`REVOKE ALL ON public.films FROM ${role}; DROP ROLE ${role}`)
    }
    expect(message).toMatch(/^CONNECTION_PRIVILEGE_MISSING: /)
    expect(message).toContain(
      'ownership of public.films (to keep its triggers from firing on restored rows)',
    )
    await expectSnapshotRows()
  })

  it('still checks foreign keys: an appended row without its parent fails', async () => {
    await db.client.query('DELETE FROM public.reviews; DELETE FROM public.films WHERE id = 1')
    const target = await connectTarget(db.url)
    let code: string | undefined
    try {
      await restoreSnapshot({
        repository,
        snapshot,
        target,
        tables: ['public.reviews'],
        mode: 'append',
      })
    } catch (err) {
      code = isDbsnapError(err) ? err.code : String(err)
    } finally {
      await target.close()
    }
    expect(code).toBe('RESTORE_FAILED')
    expect((await db.client.query('SELECT count(*)::int AS n FROM public.reviews')).rows).toEqual([
      { n: 0 },
    ])
  })
})
