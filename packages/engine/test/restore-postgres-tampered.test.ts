// A tampered repository against PostgreSQL: definitions in a manifest rewritten to smuggle in a
// second statement must make restore and SQL export fail (DATA_CORRUPT), never run it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { extended } from '../src/adapters/postgres/postgres-target.js'
import { connectTarget } from '../src/adapters/connect.js'
import { isDbsnapError } from '../src/errors.js'
import { exportSnapshot } from '../src/export/export.js'
import type { SnapshotManifest } from '../src/repository/manifest.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import type { DatabaseSchema, TableSchema } from '../src/schema/schema.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const PWNED = 'CREATE TABLE public.pwned(x int)'

const SETUP = `
  CREATE TABLE public.t (id int PRIMARY KEY, a int CHECK (a > 0), b text DEFAULT 'x');
  CREATE INDEX t_a_idx ON public.t (a);
  INSERT INTO public.t VALUES (1, 1, 'one');
  CREATE SEQUENCE public.s;
  SELECT nextval('public.s');
  CREATE FUNCTION public.f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
  CREATE TRIGGER t_f BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();
  CREATE VIEW public.v AS SELECT id FROM public.t;
  CREATE RULE v_no_delete AS ON DELETE TO public.v DO INSTEAD NOTHING;
  CREATE DOMAIN public.d AS int CONSTRAINT d_check CHECK (VALUE > 0);
  CREATE TABLE public.p (k int, twice int GENERATED ALWAYS AS (k * 2) STORED, n public.d)
    PARTITION BY LIST (k);
  CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES IN (1);`

const table = (schema: DatabaseSchema): TableSchema => schema.tables.find((t) => t.name === 't')!

/** Each tampering: what it changes in the manifest's schema, and what the refusal names. */
const TAMPERINGS: [string, (schema: DatabaseSchema) => void, RegExp][] = [
  [
    'an index definition with a second statement',
    (s) =>
      void (table(s).indexes.find((i) => i.name === 't_a_idx')!.definition =
        `CREATE INDEX i ON public.t (a); ${PWNED}`),
    /definition of index public\.t\.t_a_idx is not a single CREATE INDEX statement/,
  ],
  [
    'an index definition of another kind',
    (s) => void (table(s).indexes.find((i) => i.name === 't_a_idx')!.definition = PWNED),
    /definition of index public\.t\.t_a_idx is not a single CREATE INDEX statement/,
  ],
  [
    'a column default that closes the CREATE TABLE',
    (s) =>
      void (table(s).columns.find((c) => c.name === 'b')!.default = `'x'::text); ${PWNED}; --`),
    /definition of table public\.t is not a single CREATE TABLE statement/,
  ],
  [
    'a check with a second statement',
    (s) => void (table(s).checks[0]!.definition = `CHECK (a > 0); ${PWNED}`),
    /definition of check public\.t\.t_a_check is not a single CHECK statement/,
  ],
  [
    'a function body that ends early',
    (s) =>
      void (s.routines[0]!.definition = `CREATE OR REPLACE FUNCTION public.f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$; ${PWNED}`),
    /definition of function public\.f\(\) is not a single CREATE FUNCTION statement/,
  ],
  [
    'a trigger definition with a second statement',
    (s) =>
      void (table(s).triggers[0]!.definition =
        `CREATE TRIGGER t_f BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f(); ${PWNED}`),
    /definition of trigger public\.t\.t_f is not a single CREATE TRIGGER statement/,
  ],
  [
    'a view query with a second statement',
    (s) => void (s.views[0]!.definition = ` SELECT 1 AS id; ${PWNED}`),
    /definition of view public\.v is not a single CREATE VIEW … AS SELECT statement/,
  ],
  [
    'a partition bound with a second statement',
    (s) =>
      void (s.tables.find((t) => t.name === 'p1')!.partitionOf!.bound =
        `FOR VALUES IN (1); ${PWNED}`),
    /definition of partition bound public\.p1 is not a single FOR VALUES or DEFAULT statement/,
  ],
  [
    'a generated column that closes the CREATE TABLE',
    (s) =>
      void (s.tables.find((t) => t.name === 'p')!.columns[1]!.generated =
        `k * 2) STORED); ${PWNED}; --`),
    /definition of table public\.p is not a single CREATE TABLE statement/,
  ],
  [
    'a domain check with a second statement',
    (s) => void (s.domains[0]!.checks[0]!.definition = `CHECK (VALUE > 0); ${PWNED}`),
    /definition of domain public\.d is not a single CREATE DOMAIN statement/,
  ],
  [
    'a rule with a second statement',
    (s) =>
      void (s.views[0]!.rules![0]!.definition = `CREATE RULE v_no_delete AS ON DELETE TO public.v DO INSTEAD NOTHING; ${PWNED}`),
    /definition of rule public\.v\.v_no_delete is not a single CREATE RULE statement/,
  ],
  [
    'a sequence position that is a statement',
    (s) => void (s.sequences[0]!.lastValue = `1, true); ${PWNED}; SELECT (1`),
    /definition of sequence value public\.s is not a single setval statement/,
  ],
]

describe('PostgreSQL restore and export of a tampered manifest', () => {
  let repository: Repository
  let source: TestDatabase
  let snapshot: StoredSnapshot
  const databases: TestDatabase[] = []

  beforeAll(async () => {
    repository = await Repository.open(new MemoryStorage(), { create: true })
    source = await createTestDatabase('dbsnap_it_tampered')
    databases.push(source)
    await source.client.query(SETUP)
    const { id } = await createSnapshot({ source: source.url, repository })
    snapshot = { id, manifest: await repository.readManifest(id) }
  })
  afterAll(async () => {
    for (const db of databases) await db.drop().catch(() => undefined)
  })

  /** The snapshot with `change` made to its manifest, stored as a manifest that still parses. */
  async function tampered(change: (schema: DatabaseSchema) => void): Promise<StoredSnapshot> {
    const manifest = structuredClone<SnapshotManifest>(snapshot.manifest)
    change(manifest.schema)
    const { id } = await repository.putManifest(manifest)
    return { id, manifest: await repository.readManifest(id) }
  }

  async function failure(promise: Promise<unknown>): Promise<string> {
    try {
      await promise
    } catch (err) {
      if (isDbsnapError(err)) return `${err.code}: ${err.message}`
      throw err
    }
    return 'no failure'
  }

  it('the extended query protocol refuses a text of two statements', async () => {
    const client = new pg.Client({ connectionString: source.url })
    await client.connect()
    try {
      await expect(client.query(extended(`SELECT 1; ${PWNED}`))).rejects.toThrow(
        /cannot insert multiple commands into a prepared statement/,
      )
      const { rows } = await client.query("SELECT to_regclass('public.pwned') AS found")
      expect(rows).toEqual([{ found: null }])
    } finally {
      await client.end()
    }
  })

  it.each(TAMPERINGS)(
    '%s: restore fails with DATA_CORRUPT and runs nothing of it',
    async (_, change, message) => {
      const bad = await tampered(change)
      const target = await createTestDatabase('dbsnap_it_tampered')
      databases.push(target)
      const adapter = await connectTarget(target.url)
      try {
        const refused = await failure(
          restoreSnapshot({ repository, snapshot: bad, target: adapter }),
        )
        expect(refused).toMatch(/^DATA_CORRUPT: /)
        expect(refused).toMatch(message)
      } finally {
        await adapter.close()
      }
      const { rows } = await target.client.query("SELECT to_regclass('public.pwned') AS found")
      expect(rows).toEqual([{ found: null }])
    },
  )

  it('a type the target lacks fails as a restore step, not as a change of the source', async () => {
    const bad = await tampered(
      (s) => void (table(s).columns.find((c) => c.name === 'b')!.collation = '"no such collation"'),
    )
    const target = await createTestDatabase('dbsnap_it_tampered')
    databases.push(target)
    const adapter = await connectTarget(target.url)
    try {
      expect(
        await failure(restoreSnapshot({ repository, snapshot: bad, target: adapter })),
      ).toMatch(
        /^RESTORE_FAILED: restoring public\.t failed \(create table public\.t\): collation "no such collation" for encoding "UTF8" does not exist/,
      )
    } finally {
      await adapter.close()
    }
  })

  it.each(TAMPERINGS)('%s: the SQL export fails with DATA_CORRUPT', async (_, change, message) => {
    const bad = await tampered(change)
    const text = async (): Promise<string> => {
      let out = ''
      for await (const piece of exportSnapshot({ repository, snapshot: bad, format: 'sql' })) {
        out += piece
      }
      return out
    }
    const refused = await failure(text())
    expect(refused).toMatch(/^DATA_CORRUPT: /)
    expect(refused).toMatch(message)
  })
})
