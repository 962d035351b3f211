// The MariaDB schema oracle: a database using every object kind the adapter knows is restored
// into an empty one, and its SQL export loaded into another; `SHOW CREATE` of every object must
// come out the same in all three.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectTarget } from '../src/adapters/connect.js'
import { exportSnapshot } from '../src/export/export.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const services = testServices()
const FIXTURES = ['all-types.sql', 'objects.sql', 'restore-objects.sql', 'oracle.sql'].map((name) =>
  readFileSync(new URL(`fixtures/mysql/${name}`, import.meta.url), 'utf8'),
)
const suffix = randomBytes(4).toString('hex')
const SOURCE = `dbsnap_oracle_src_${suffix}`
const COPY = `dbsnap_oracle_copy_${suffix}`
const LOADED = `dbsnap_oracle_loaded_${suffix}`

let admin: mysql.Connection

/**
 * `SHOW CREATE` of every table, view, trigger, routine and event of a database, keyed by kind
 * and name, with the session settings each object was created under (sql_mode, time zone,
 * character set and collation of the client, the database's collation).
 *
 * Left out or normalised, each because it cannot be the same: a trigger's `Created` timestamp
 * (when the restore ran), and the database name MariaDB puts before a sequence in a column's
 * default (nextval(`db`.`s`): the copy's own). Nothing else: AUTO_INCREMENT= is restored as
 * the next value the source would give, a sequence's state (`SELECT *`) as its next value, and
 * DEFINER is kept because the restoring account is the source's.
 */
async function showCreateAll(database: string): Promise<Record<string, unknown>> {
  const conn = await mysql.createConnection({ uri: withDatabase(services.mysqlUrl, database) })
  try {
    const names = async (sql: string): Promise<string[]> => {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(sql, [database])
      return rows.map((r) => r.name as string)
    }
    const show = async (kind: string, name: string): Promise<Record<string, unknown>> => {
      const quoted = `\`${name.replaceAll('`', '``')}\``
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`SHOW CREATE ${kind} ${quoted}`)
      const { Created: _created, ...rest } = rows[0]!
      if (kind === 'SEQUENCE') {
        const [state] = await conn.query<mysql.RowDataPacket[]>(`SELECT * FROM ${quoted}`)
        return { ...rest, state: state[0] }
      }
      if (kind !== 'TABLE') return rest
      // A default drawing from a sequence names it with its database, which a copy's is not.
      const text = rest['Create Table'] as string
      return { ...rest, 'Create Table': text.replaceAll(`\`${database}\`.`, '') }
    }
    const out: Record<string, unknown> = {}
    const kinds: [string, string][] = [
      [
        'TABLE',
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = ? AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1`,
      ],
      [
        'VIEW',
        `SELECT table_name AS name FROM information_schema.views WHERE table_schema = ? ORDER BY 1`,
      ],
      [
        'TRIGGER',
        `SELECT trigger_name AS name FROM information_schema.triggers
          WHERE trigger_schema = ? ORDER BY 1`,
      ],
      [
        'PROCEDURE',
        `SELECT routine_name AS name FROM information_schema.routines
          WHERE routine_schema = ? AND routine_type = 'PROCEDURE' ORDER BY 1`,
      ],
      [
        'FUNCTION',
        `SELECT routine_name AS name FROM information_schema.routines
          WHERE routine_schema = ? AND routine_type = 'FUNCTION' ORDER BY 1`,
      ],
      [
        'SEQUENCE',
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = ? AND table_type = 'SEQUENCE' ORDER BY 1`,
      ],
      [
        'EVENT',
        `SELECT event_name AS name FROM information_schema.events WHERE event_schema = ? ORDER BY 1`,
      ],
    ]
    for (const [kind, sql] of kinds) {
      for (const name of await names(sql)) out[`${kind} ${name}`] = await show(kind, name)
    }
    // The order triggers fire in, which SHOW CREATE TRIGGER does not show.
    const [order] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT event_object_table AS t, action_timing AS timing, event_manipulation AS event,
              action_order AS n, trigger_name AS name
         FROM information_schema.triggers WHERE trigger_schema = ? ORDER BY 1, 2, 3, 4`,
      [database],
    )
    out['trigger order'] = order
    return out
  } finally {
    await conn.end()
  }
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl })
  for (const name of [SOURCE, COPY, LOADED]) await admin.query(`CREATE DATABASE \`${name}\``)
  const setup = await mysql.createConnection({
    uri: withDatabase(services.mysqlUrl, SOURCE),
    multipleStatements: true,
  })
  try {
    for (const script of FIXTURES) await setup.query(script)
  } finally {
    await setup.end()
  }
})

afterAll(async () => {
  for (const name of [SOURCE, COPY, LOADED]) {
    await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``)
  }
  await admin?.end()
})

describe('MariaDB schema oracle', () => {
  let repository: Repository
  let snapshot: StoredSnapshot
  let source: Record<string, unknown>

  beforeAll(async () => {
    repository = await Repository.open(new MemoryStorage(), { create: true })
    const { id } = await createSnapshot({
      source: withDatabase(services.mysqlUrl, SOURCE),
      repository,
      base: null,
    })
    snapshot = { id, manifest: await repository.readManifest(id) }
    source = await showCreateAll(SOURCE)
    expect(Object.keys(source).length).toBeGreaterThanOrEqual(30)
  })

  it('restores every object so that SHOW CREATE of each is the same as in the source', async () => {
    const target = await connectTarget(withDatabase(services.mysqlUrl, COPY))
    try {
      await restoreSnapshot({ repository, snapshot, target })
    } finally {
      await target.close()
    }
    expect(await showCreateAll(COPY)).toEqual(source)
  })

  // The export leaves DEFINER out: the loading account, the source's here, owns every object.
  it('exports SQL that the mysql client loads into the same objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-oracle-'))
    try {
      const file = join(dir, 'export.sql')
      let text = ''
      for await (const part of exportSnapshot({ repository, snapshot, format: 'sql' })) text += part
      await writeFile(file, text)
      const server = new URL(services.mysqlUrl)
      await promisify(execFile)(
        'sh',
        ['-c', 'exec mysql --host="$H" --port="$P" --user="$U" "$D" < "$F"'],
        {
          env: {
            ...process.env,
            H: server.hostname,
            P: server.port || '3306',
            U: decodeURIComponent(server.username),
            MYSQL_PWD: decodeURIComponent(server.password),
            D: LOADED,
            F: file,
          },
        },
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    expect(await showCreateAll(LOADED)).toEqual(source)
  })
})
