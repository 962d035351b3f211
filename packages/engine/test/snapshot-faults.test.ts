// Snapshots that fail midway, against a real PostgreSQL: a lost connection, a table altered or
// dropped concurrently, a table locked by a schema change, storage failing or full. In every
// case no partial snapshot is listed, earlier snapshots stay intact and verify stays clean.

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import {
  DbsnapError,
  Repository,
  createSnapshot,
  verifyRepository,
  type SnapshotProgress,
} from '../src/index.js'
import { FaultyStorage, FsStorage, MemoryStorage } from '../src/storage/index.js'

const dbName = `dbsnap_it_faults_${process.pid}_${randomBytes(3).toString('hex')}`

describe('snapshot faults (PostgreSQL)', () => {
  const { pgUrl } = testServices()
  const url = withDatabase(pgUrl, dbName)
  let admin: pg.Client
  let db: pg.Client

  /** A repository holding one good snapshot, the one that must survive every failure. */
  const seeded = async (
    storage = new MemoryStorage(),
  ): Promise<{ repository: Repository; first: string }> => {
    const repository = await Repository.open(storage, { create: true })
    const first = await createSnapshot({ source: url, repository })
    return { repository, first: first.id }
  }

  const expectIntact = async (repository: Repository, ids: string[]): Promise<void> => {
    expect(await repository.listSnapshotIds()).toEqual([...ids].sort())
    const verified = await verifyRepository(repository, { readDataSubset: { percent: 100 } })
    expect(verified.problems).toEqual([])
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(`
      CREATE TABLE big (id int PRIMARY KEY, payload text);
      INSERT INTO big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 100000) i;
      CREATE TABLE small (id int PRIMARY KEY, v text);
      INSERT INTO small SELECT i, 'v' || i FROM generate_series(1, 100) i;
      ANALYZE;
    `)
  })

  afterAll(async () => {
    await db?.end()
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin?.end()
  })

  it('a connection lost mid-snapshot fails with CONNECTION_LOST and commits nothing', async () => {
    const { repository, first } = await seeded()
    let terminated = false
    const onProgress = (event: SnapshotProgress): void => {
      if (terminated || event.type !== 'table' || event.rows === 0) return
      terminated = true
      void admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = $1 AND application_name = 'dbsnap' AND pid <> pg_backend_pid()`,
        [dbName],
      )
    }
    await expect(createSnapshot({ source: url, repository, onProgress })).rejects.toMatchObject({
      code: 'CONNECTION_LOST',
    })
    expect(terminated).toBe(true)
    await expectIntact(repository, [first])
  })

  it('a table altered or dropped during the snapshot waits for it; the snapshot is consistent', async () => {
    const { repository, first } = await seeded()
    const other = new pg.Client({ connectionString: url })
    await other.connect()
    let ddl: Promise<unknown> | undefined
    try {
      const result = await createSnapshot({
        source: url,
        repository,
        onProgress: (event) => {
          if (event.type === 'start') {
            ddl = other.query('ALTER TABLE small ADD COLUMN extra int DEFAULT 1; DROP TABLE big')
          }
        },
      })
      expect(result.tables.map((t) => [t.table, t.rows])).toEqual([
        ['public.big', 100000],
        ['public.small', 100],
      ])
      await ddl
      await expectIntact(repository, [first, result.id])
    } finally {
      await other.end()
      await db.query(`
        DROP TABLE IF EXISTS big; ALTER TABLE small DROP COLUMN IF EXISTS extra;
        CREATE TABLE big (id int PRIMARY KEY, payload text);
        INSERT INTO big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 100000) i;
      `)
    }
  })

  it('a table locked by a schema change in progress fails with SOURCE_CHANGED instead of waiting', async () => {
    const { repository, first } = await seeded()
    const other = new pg.Client({ connectionString: url })
    await other.connect()
    try {
      await other.query('BEGIN; LOCK TABLE small IN ACCESS EXCLUSIVE MODE')
      const started = Date.now()
      await expect(
        createSnapshot({ source: url, repository, connectOptions: { timeoutMs: 1000 } }),
      ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' })
      expect(Date.now() - started).toBeLessThan(5000)
      await other.query('ROLLBACK')
      await expectIntact(repository, [first])
    } finally {
      await other.end()
    }
  })

  it('a storage failure mid-snapshot surfaces its code and commits nothing', async () => {
    const memory = new MemoryStorage()
    const { first } = await seeded(memory)
    await db.query(`UPDATE big SET payload = payload || 'x' WHERE id % 10 = 0`)
    const faulty = new FaultyStorage(memory, [
      {
        method: 'put',
        key: 'chunks/',
        after: 2,
        times: Infinity,
        effect: {
          type: 'error',
          error: new DbsnapError('STORAGE_FULL', 'no space left on the test device'),
        },
      },
    ])
    const repository = await Repository.open(faulty)
    await expect(createSnapshot({ source: url, repository })).rejects.toMatchObject({
      code: 'STORAGE_FULL',
    })
    faulty.assertAllFired()
    await expectIntact(await Repository.open(memory), [first])
  })

  it('an aborted snapshot rejects with ABORTED and commits nothing', async () => {
    const { repository, first } = await seeded()
    const controller = new AbortController()
    await expect(
      createSnapshot({
        source: url,
        repository,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'table' && event.rows > 0) controller.abort()
        },
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' })
    await expectIntact(repository, [first])
  })

  /** Backends of this process's snapshots in the test database, with the tables they lock. */
  const snapshotSessions = async (): Promise<{ pid: number; locked: string[] }[]> => {
    // On a connection to the test database: pg_locks names relations by its own OIDs.
    const { rows } = await db.query<{ pid: number; locked: string[] }>(
      `SELECT a.pid, array_remove(array_agg(c.relname::text ORDER BY c.relname), NULL) AS locked
         FROM pg_stat_activity a
         LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.granted
         LEFT JOIN pg_class c ON c.oid = l.relation AND c.relkind = 'r'
        WHERE a.datname = $1 AND a.application_name = 'dbsnap'
        GROUP BY a.pid`,
      [dbName],
    )
    return rows
  }

  const until = async (what: string, done: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 10_000
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** The read's last step before the rows, after the schema: the tables locked in the view. */
  const tablesLocked = async (): Promise<boolean> =>
    (await snapshotSessions()).some((s) => s.locked.includes('big') && s.locked.includes('small'))

  it('reads the schema and locks the tables while the repository is still being opened', async () => {
    let open!: (repository: Repository) => void
    const repository = await Repository.open(new MemoryStorage(), { create: true })
    const taken = createSnapshot({
      source: url,
      repository: new Promise<Repository>((resolve) => (open = resolve)),
    })
    // The read's last step before the rows: the view's tables locked, the repository unopened.
    await until('the snapshot locks its tables', async () =>
      (await snapshotSessions()).some(
        (s) => s.locked.includes('big') && s.locked.includes('small'),
      ),
    )
    open(repository)
    const result = await taken
    expect(result.totals.rows).toBe(100_100)
    expect(await repository.listSnapshotIds()).toEqual([result.id])
  })

  it('a repository that fails once the tables are locked is the error, and closes the read', async () => {
    let fail!: (err: Error) => void
    const taken = createSnapshot({
      source: url,
      repository: new Promise<Repository>((_, reject) => (fail = reject)),
    })
    await until('the snapshot locks its tables', tablesLocked)
    fail(new DbsnapError('REPOSITORY_NOT_FOUND', 'no repository here'))
    await expect(taken).rejects.toMatchObject({ code: 'REPOSITORY_NOT_FOUND' })
    await until('no snapshot session is left', async () => (await snapshotSessions()).length === 0)
  })

  it('a source that fails while the repository opens is the error, and releases the lock', async () => {
    const repository = await Repository.open(new MemoryStorage(), { create: true })
    await expect(
      createSnapshot({ source: withDatabase(pgUrl, `${dbName}_missing`), repository }),
    ).rejects.toMatchObject({ code: 'CONNECTION_DATABASE_NOT_FOUND' })
    const lock = await repository.lock('exclusive', 'prune')
    await lock.release()
  })

  it('a second reader leaves a table an ALTER waits for to the view, which reads it as it was', async () => {
    // Read largest first: the view takes `big`, the second reader `medium` and then
    // `contested`, by when the ALTER (sent as the reading starts) waits for the view's lock. The
    // reader's lock, taken in its read's query without waiting, is refused; the view reads it.
    await db.query(`
      CREATE TABLE medium (id int PRIMARY KEY, payload text);
      INSERT INTO medium SELECT i, repeat('m', 200) FROM generate_series(1, 20000) i;
      CREATE TABLE contested (id int PRIMARY KEY, v text);
      INSERT INTO contested SELECT i, 'c' || i FROM generate_series(1, 10) i;
      ANALYZE medium, contested;
    `)
    const session = new pg.Client({ connectionString: url })
    await session.connect()
    let altering: Promise<unknown> | undefined
    try {
      const repository = await Repository.open(new MemoryStorage(), { create: true })
      const result = await createSnapshot({
        source: url,
        repository,
        jobs: 2,
        onProgress: (event) => {
          if (event.type === 'start')
            altering = session.query('ALTER TABLE contested ADD extra int')
        },
      })
      expect(result.warnings).toEqual([])
      const manifest = await repository.readManifest(result.id)
      const contested = manifest.tables.find((t) => t.name === 'contested')!
      expect([contested.columns, contested.rows]).toEqual([['id', 'v'], 10])
    } finally {
      await altering
      await session.end()
      await db.query('DROP TABLE medium, contested')
    }
  })

  it('a repository on a full disk fails with STORAGE_FULL and commits nothing', async (context) => {
    const mount = await mkdtemp(join(tmpdir(), 'dbsnap-full-'))
    const { execFileSync } = await import('node:child_process')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount], { stdio: 'ignore' })
    } catch {
      await rm(mount, { recursive: true, force: true })
      context.skip('mounting a small tmpfs needs root (CI runs as root)')
    }
    try {
      const storage = await FsStorage.open(join(mount, 'repo'), { create: true })
      const repository = await Repository.open(storage, { create: true })
      const small = await createSnapshot({ source: url, repository, tables: ['small'] })
      await expect(
        createSnapshot({ source: url, repository, compression: { name: 'none', level: 0 } }),
      ).rejects.toMatchObject({
        code: 'STORAGE_FULL',
      })
      await expectIntact(repository, [small.id])
    } finally {
      execFileSync('umount', [mount])
      await rm(mount, { recursive: true, force: true })
    }
  })
})
