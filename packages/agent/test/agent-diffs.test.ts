// Diffs end to end, as a user gets them: a real control plane process (SQLite), a real
// `dbsnap-agent` process, and real PostgreSQL, MariaDB and MongoDB (FerretDB) databases. Each is
// snapshotted, changed (rows added, removed, a column and a nested document field changed),
// snapshotted again; the diff asked for through the API runs on the agent, which uploads the
// changes in pages; the control plane serves them with per-table counts and column names,
// field-level changes and the RFC 6902 paths of the nested change, and exports them as NDJSON
// and Markdown. Then a snapshot is diffed against the live database.

import { execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { MongoClient } from 'mongodb'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'
import { testServices, withDatabase } from '../../../test/services.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const run = promisify(execFile)

/** Rows added between the snapshots: more than one page (500 changes a page). */
const ADDED = 1_200

/** A database of one engine the test can seed and change, with a table `items (id, name, doc)`. */
interface Subject {
  engine: 'postgres' | 'mysql' | 'mongodb'
  table: string
  url: string
  seed(): Promise<void>
  /** Adds ADDED rows, removes row 2, renames row 3 and changes row 1's doc.nested.version. */
  change(): Promise<void>
  /** Adds one row (for the live diff). */
  addOne(id: number): Promise<void>
  close(): Promise<void>
}

const doc = (version: number) => JSON.stringify({ tags: ['a'], nested: { version } })

async function postgres(): Promise<Subject> {
  const db = await createTestDatabase('dbsnap_it_agent_diff')
  const q = (text: string) => db.client.query(text)
  return {
    engine: 'postgres',
    table: 'public.items',
    url: db.url,
    seed: async () =>
      void (await q(
        `CREATE TABLE items (id int PRIMARY KEY, name text, doc jsonb);
         INSERT INTO items SELECT g, 'item ' || g, '${doc(1)}' FROM generate_series(1, 10) g`,
      )),
    change: async () =>
      void (await q(
        `INSERT INTO items SELECT g, 'new ' || g, '${doc(1)}' FROM generate_series(1001, ${1000 + ADDED}) g;
         DELETE FROM items WHERE id = 2;
         UPDATE items SET name = 'renamed' WHERE id = 3;
         UPDATE items SET doc = '${doc(2)}' WHERE id = 1`,
      )),
    addOne: async (id) => void (await q(`INSERT INTO items VALUES (${id}, 'live', '${doc(1)}')`)),
    close: () => db.drop(),
  }
}

async function mariadb(): Promise<Subject> {
  const database = `dbsnap_it_agent_diff_${randomBytes(4).toString('hex')}`
  const admin = await mysql.createConnection({ uri: testServices().mysqlUrl })
  await admin.query(`CREATE DATABASE \`${database}\``)
  const url = withDatabase(testServices().mysqlUrl, database)
  const db = await mysql.createConnection({ uri: url, multipleStatements: true })
  const rows = (from: number, to: number, name: string) =>
    Array.from({ length: to - from + 1 }, (_, i) => [from + i, `${name} ${from + i}`, doc(1)])
  return {
    engine: 'mysql',
    table: 'items',
    url,
    async seed() {
      await db.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), doc JSON)')
      await db.query('INSERT INTO items VALUES ?', [rows(1, 10, 'item')])
    },
    async change() {
      await db.query('INSERT INTO items VALUES ?', [rows(1001, 1000 + ADDED, 'new')])
      await db.query(
        `DELETE FROM items WHERE id = 2; UPDATE items SET name = 'renamed' WHERE id = 3;
         UPDATE items SET doc = '${doc(2)}' WHERE id = 1`,
      )
    },
    addOne: async (id) =>
      void (await db.query('INSERT INTO items VALUES (?, ?, ?)', [id, 'live', doc(1)])),
    async close() {
      await db.end()
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``)
      await admin.end()
    },
  }
}

async function mongo(): Promise<Subject> {
  const database = `dbsnap_it_agent_diff_${randomBytes(4).toString('hex')}`
  const url = withDatabase(testServices().mongoUrl, database)
  const client = new MongoClient(url)
  await client.connect()
  const items = client.db(database).collection<{ _id: number; name: string; doc: unknown }>('items')
  const docs = (from: number, to: number, name: string) =>
    Array.from({ length: to - from + 1 }, (_, i) => ({
      _id: from + i,
      name: `${name} ${from + i}`,
      doc: { tags: ['a'], nested: { version: 1 } },
    }))
  return {
    engine: 'mongodb',
    table: 'items',
    url,
    seed: async () => void (await items.insertMany(docs(1, 10, 'item'))),
    async change() {
      await items.insertMany(docs(1001, 1000 + ADDED, 'new'))
      await items.deleteOne({ _id: 2 })
      await items.updateOne({ _id: 3 }, { $set: { name: 'renamed' } })
      await items.updateOne({ _id: 1 }, { $set: { 'doc.nested.version': 2 } })
    },
    addOne: async (id) =>
      void (await items.insertOne({ _id: id, name: 'live', doc: { tags: [], nested: {} } })),
    async close() {
      await client.db(database).dropDatabase()
      await client.close()
    },
  }
}

interface Change {
  table: string
  change: string
  key: unknown[] | null
  fields?: { column: string; old: unknown; new: unknown; patch?: { op: string; path: string }[] }[]
}

describe('diffs with a control plane, an agent and PostgreSQL, MariaDB and MongoDB', () => {
  let dir: string
  let cp: ChildProcess
  let agent: ChildProcess
  let base: string
  let token: string
  let projectBase: string
  const subjects: Subject[] = []

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)

  /** Waits until the job ends; expects it succeeded. */
  async function finished(jobId: string): Promise<Record<string, unknown>> {
    let seen: Record<string, unknown> = {}
    for (let i = 0; i < 240; i++) {
      seen = await api('GET', `${projectBase}/jobs/${jobId}`)
      if (['succeeded', 'failed', 'dead', 'cancelled'].includes(seen['state'] as string)) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded' })
    return seen
  }

  async function snapshot(connectionId: string): Promise<string> {
    const job = await api('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const done = await finished(job['id'] as string)
    return (done['result'] as { id: string }).id
  }

  async function allChanges(diffId: string, query = ''): Promise<Change[]> {
    const all: Change[] = []
    let cursor: string | null = null
    do {
      const page = (await api(
        'GET',
        `${projectBase}/diffs/${diffId}/changes?limit=500${query}${cursor === null ? '' : `&cursor=${cursor}`}`,
      )) as { items: Change[]; nextCursor: string | null }
      all.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    return all
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-diffs-'))
    const server = await startLogging(
      cpBin,
      [],
      {
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        DBSNAP_CP_EMBEDDED_AGENT: 'false',
      },
      'port',
    )
    cp = server.child
    base = `http://127.0.0.1:${server.line['port'] as number}`
    token = await signUp(base)
    const org = await api('POST', '/orgs', { name: 'Acme', slug: 'acme' })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    const made = await api('POST', `${projectBase}/agents`, { name: 'backup-1' })
    const env = {
      DBSNAP_AGENT_STATE_DIR: join(dir, 'agent-state'),
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      DBSNAP_AGENT_HEALTH_PORT: '0',
    }
    await run(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    agent = (await startLogging(agentBin, ['run'], env, 'healthPort')).child
  }, 60_000)

  afterAll(async () => {
    if (agent !== undefined) {
      const exited = new Promise((resolve) => agent.once('exit', resolve))
      agent.kill('SIGTERM')
      await exited
    }
    cp?.kill('SIGTERM')
    for (const s of subjects) await s.close().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['postgres', postgres],
    ['mysql', mariadb],
    ['mongodb', mongo],
  ] as const)(
    'diffs two snapshots of %s, then a snapshot and the live database',
    async (engine, open) => {
      const subject = await open()
      subjects.push(subject)
      await subject.seed()
      const connection = await api('POST', `${projectBase}/connections`, {
        name: `shop-${engine}`,
        url: subject.url,
      })
      const connectionId = connection['id'] as string
      const before = await snapshot(connectionId)
      await subject.change()
      const after = await snapshot(connectionId)

      const asked = (await api('POST', `${projectBase}/diffs`, { from: before, to: after })) as {
        diff: { id: string }
        job: { id: string }
      }
      const job = await finished(asked.job.id)
      // More than one page went up.
      expect(job['result']).toMatchObject({ upload: { pages: 3, changes: ADDED + 3 } })
      const diff = await api('GET', `${projectBase}/diffs/${asked.diff.id}`)
      // The names of the rows' values came with the pages: a collection's are `_id` and the
      // document.
      const names = engine === 'mongodb' ? ['_id', 'document'] : ['id', 'name', 'doc']
      const columns = { key: [names[0]], old: names, new: names }
      expect(diff).toMatchObject({
        state: 'succeeded',
        from: { snapshotId: before },
        to: { snapshotId: after },
        summary: { rows: { added: ADDED, removed: 1, modified: 2 } },
        tables: [{ table: subject.table, added: ADDED, removed: 1, modified: 2, columns }],
      })

      const changes = await allChanges(asked.diff.id)
      expect(changes).toHaveLength(ADDED + 3)
      // MongoDB's keys are canonical Extended JSON.
      const key = (n: number) => [engine === 'mongodb' ? JSON.stringify({ $numberInt: `${n}` }) : n]
      const modified = await allChanges(asked.diff.id, '&type=modified')
      expect(modified.map((c) => c.key)).toEqual([key(1), key(3)])
      // Field-level: only what changed; in a JSON column or a document, down to the nested key.
      const touched = (c: Change) =>
        c.fields!.flatMap((f) =>
          f.patch === undefined ? [f.column] : f.patch.map((p) => `${f.column}${p.path}`),
        )
      expect(touched(modified[1]!)).toEqual([expect.stringMatching(/^(name|\w+\/name)$/)])
      expect(touched(modified[0]!)).toEqual([expect.stringMatching(/doc\/nested\/version$/)])
      expect(await allChanges(asked.diff.id, '&type=removed')).toEqual([
        expect.objectContaining({ key: key(2) }),
      ])
      // Search by value and by key.
      expect((await allChanges(asked.diff.id, '&q=RENAMED')).map((c) => c.key)).toEqual([key(3)])
      expect((await allChanges(asked.diff.id, '&q=new%201200')).map((c) => c.key)).toEqual([
        key(1200),
      ])

      // Exported: every change as NDJSON, and the engine's Markdown report with the nested change.
      const exported = async (format: string) => {
        const res = await fetch(
          `${base}/api/v1${projectBase}/diffs/${asked.diff.id}/export?format=${format}`,
          { headers: { authorization: `Bearer ${token}` } },
        )
        expect(res.status).toBe(200)
        return res.text()
      }
      expect((await exported('ndjson')).trim().split('\n')).toHaveLength(ADDED + 3)
      const markdown = await exported('markdown')
      expect(markdown).toContain(`### ${subject.table}\n`)
      // A document's key and values read as Extended JSON, as `dbsnap diff` prints them.
      expect(markdown).toMatch(
        /^~ (1|\{"\$numberInt":"1"\}) (doc|document): replace \/(doc\/)?nested\/version (2|\{"\$numberInt":"2"\})$/m,
      )
      expect(markdown).toContain(`… ${ADDED + 3 - 1000} more`)

      // Against the live database: one row more than the later snapshot.
      await subject.addOne(5000)
      const live = (await api('POST', `${projectBase}/diffs`, { from: after, live: true })) as {
        diff: { id: string }
        job: { id: string }
      }
      await finished(live.job.id)
      expect(await api('GET', `${projectBase}/diffs/${live.diff.id}`)).toMatchObject({
        state: 'succeeded',
        to: { live: true, connectionId, takenAt: expect.any(String) as string },
        tables: [{ table: subject.table, added: 1, removed: 0, modified: 0, columns }],
      })
      expect((await allChanges(live.diff.id)).map((c) => [c.change, c.key])).toEqual([
        ['added', key(5000)],
      ])
    },
    120_000,
  )
})
