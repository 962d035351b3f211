// A tampered MariaDB snapshot: definitions in its manifest rewritten to carry a second statement
// (`…; CREATE TABLE pwned (x int)`), in every place a definition reaches SQL. Restore and SQL
// export must refuse it with DATA_CORRUPT before writing anything, and `pwned` must never exist.

import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { mysqlConnectionConfig } from '../src/adapters/mysql/mysql-connection.js'
import { connectTarget } from '../src/adapters/connect.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import { isDbsnapError } from '../src/errors.js'
import { exportSnapshot } from '../src/export/export.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import type { DatabaseSchema } from '../src/schema/schema.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const services = testServices()
const suffix = randomBytes(4).toString('hex')
const SOURCE = `dbsnap_tamper_src_${suffix}`
const created = [SOURCE]
const PWNED = 'CREATE TABLE pwned (x int)'

let admin: mysql.Connection
let repository: Repository
let snapshot: StoredSnapshot

/** A copy of the snapshot whose schema `tamper` has rewritten (what a manifest edit gives). */
function tampered(tamper: (schema: DatabaseSchema) => void): StoredSnapshot {
  const copy = structuredClone(snapshot)
  tamper(copy.manifest.schema)
  return copy
}

const table = (schema: DatabaseSchema) => schema.tables.find((t) => t.name === 't')!

/** Each way to smuggle a second statement in, by the definition it rewrites. */
const TAMPERS: [string, (schema: DatabaseSchema) => void][] = [
  [
    'an index definition',
    (s) => {
      table(s).indexes.find((i) => i.name === 't_b')!.definition = `KEY \`t_b\` (\`b\`); ${PWNED}`
    },
  ],
  [
    'a column default',
    (s) => {
      table(s).columns.find((c) => c.name === 'a')!.default = `'x'); ${PWNED}; --`
    },
  ],
  [
    'a column type',
    (s) => {
      table(s).columns.find((c) => c.name === 'b')!.type = `int); ${PWNED}; -- `
    },
  ],
  [
    'a check constraint',
    (s) => {
      table(s).checks[0]!.definition = `CHECK (b >= 0)); ${PWNED}; # `
    },
  ],
  [
    'a view',
    (s) => {
      s.views[0]!.definition = `select 1 AS \`id\`; ${PWNED}`
    },
  ],
  [
    'a view, inside a versioned comment (which the server runs)',
    (s) => {
      s.views[0]!.definition = `select 1 AS \`id\` /*!50000 ; ${PWNED} */`
    },
  ],
  [
    'a view, with a mysql client shell command',
    (s) => {
      s.views[0]!.definition = 'select 1 AS `id` \\! touch /tmp/dbsnap-pwned'
    },
  ],
  [
    'a procedure, after its compound body',
    (s) => {
      const routine = s.routines.find((r) => r.name === 'p')!
      routine.definition = `CREATE PROCEDURE \`p\`() BEGIN SELECT 1; END; ${PWNED}`
    },
  ],
  [
    'a procedure, under NO_BACKSLASH_ESCAPES where a backslash ends no string',
    (s) => {
      const routine = s.routines.find((r) => r.name === 'p')!
      routine.definition = `CREATE PROCEDURE \`p\`() SELECT 'a\\'; ${PWNED}; -- '`
      routine.extra = { ...routine.extra, sqlMode: 'NO_BACKSLASH_ESCAPES' }
    },
  ],
  [
    'a function that is another kind of statement',
    (s) => {
      s.routines.find((r) => r.name === 'f')!.definition = PWNED
    },
  ],
  [
    'a trigger',
    (s) => {
      table(s).triggers[0]!.definition =
        `CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.b = NEW.b; ${PWNED}`
    },
  ],
  [
    'a sequence',
    (s) => {
      const extra = s.sequences[0]!.extra as { definition: string }
      extra.definition = `CREATE SEQUENCE \`s\` start with 1; ${PWNED}`
    },
  ],
  [
    "a sequence's next value",
    (s) => {
      const extra = s.sequences[0]!.extra as { nextValue: string }
      extra.nextValue = `1, 0); ${PWNED}; -- `
    },
  ],
  [
    'an event',
    (s) => {
      s.events![0]!.definition = `CREATE EVENT \`e\` ON SCHEDULE EVERY 1 DAY DO BEGIN SELECT 1; END; ${PWNED}`
    },
  ],
]

async function pwnedExists(database: string): Promise<boolean> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'pwned' AND table_schema = ?`,
    [database],
  )
  return Number(rows[0]!.n) > 0
}

/** The error a promise rejects with (fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return err
    throw err
  }
  throw new Error('expected a rejection')
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl })
  await admin.query(`CREATE DATABASE \`${SOURCE}\``)
  const setup = await mysql.createConnection({
    uri: withDatabase(services.mysqlUrl, SOURCE),
    multipleStatements: true,
  })
  try {
    await setup.query(`
      CREATE TABLE t (
        id INT NOT NULL PRIMARY KEY, a VARCHAR(10) DEFAULT 'x', b INT, KEY t_b (b),
        CONSTRAINT t_b_positive CHECK (b >= 0)
      );
      INSERT INTO t VALUES (1, 'a', 1);
      CREATE VIEW v AS SELECT id FROM t;
      CREATE PROCEDURE p() BEGIN SELECT 1; END;
      CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1;
      CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.b = NEW.b;
      CREATE EVENT e ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO SELECT 1;
      CREATE SEQUENCE s;
    `)
  } finally {
    await setup.end()
  }
  repository = await Repository.open(new MemoryStorage(), { create: true })
  const { id } = await createSnapshot({
    source: withDatabase(services.mysqlUrl, SOURCE),
    repository,
    base: null,
  })
  snapshot = { id, manifest: await repository.readManifest(id) }
})

afterAll(async () => {
  for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await admin?.end()
})

describe('a MariaDB snapshot with injected definitions', () => {
  it.each(TAMPERS)(
    'restore refuses %s with DATA_CORRUPT before writing anything',
    async (_, tamper) => {
      const name = `dbsnap_tamper_${randomBytes(4).toString('hex')}`
      created.push(name)
      await admin.query(`CREATE DATABASE \`${name}\``)
      const target = await connectTarget(withDatabase(services.mysqlUrl, name))
      try {
        const err = await failure(
          restoreSnapshot({ repository, snapshot: tampered(tamper), target }),
        )
        expect(err.code).toBe('DATA_CORRUPT')
        expect(err.message).toMatch(/(table|view|procedure|function|trigger|event|sequence) `/)
      } finally {
        await target.close()
      }
      expect(await pwnedExists(name)).toBe(false)
      const [tables] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = ?',
        [name],
      )
      expect(tables).toEqual([])
    },
  )

  it.each(TAMPERS)(
    'SQL export refuses %s with DATA_CORRUPT, writing nothing',
    async (_, tamper) => {
      const written: string[] = []
      const err = await failure(
        (async () => {
          for await (const text of exportSnapshot({
            repository,
            snapshot: tampered(tamper),
            format: 'sql',
          })) {
            written.push(text)
          }
        })(),
      )
      expect(err.code).toBe('DATA_CORRUPT')
      expect(written.join('')).not.toContain('pwned')
    },
  )

  it('the untampered snapshot restores and exports', async () => {
    const name = `dbsnap_tamper_${randomBytes(4).toString('hex')}`
    created.push(name)
    await admin.query(`CREATE DATABASE \`${name}\``)
    const target = await connectTarget(withDatabase(services.mysqlUrl, name))
    try {
      await restoreSnapshot({ repository, snapshot, target })
    } finally {
      await target.close()
    }
    let text = ''
    for await (const part of exportSnapshot({ repository, snapshot, format: 'sql' })) text += part
    expect(text).toContain('CREATE PROCEDURE `p`()')
  })

  it('the connection a restore writes through refuses two statements in one query', async () => {
    const name = `dbsnap_tamper_${randomBytes(4).toString('hex')}`
    created.push(name)
    await admin.query(`CREATE DATABASE \`${name}\``)
    const connection = await mysql.createConnection(
      mysqlConnectionConfig(parseConnectionUrl(withDatabase(services.mysqlUrl, name)), {}),
    )
    try {
      await expect(connection.query(`SELECT 1; ${PWNED}`)).rejects.toMatchObject({
        code: 'ER_PARSE_ERROR',
      })
    } finally {
      await connection.end()
    }
    expect(await pwnedExists(name)).toBe(false)
  })
})
