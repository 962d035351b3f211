// Diffs through the API on both dialects: a member asks for a diff of two catalogue snapshots (or
// of one and the live database); the agent leases the diff job, uploads its changes in pages
// (fenced by the lease, idempotent per page, up to 1 MiB a page) and reports the summary; people
// page through the changes in (table, seq) order with stable cursors, filter them by table and
// change type, search them by key or value, and get 304 for a page of a finished diff they hold.
// A retried job starts its pages over.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember } from '../src/data/orgs.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

interface LeasedBody {
  job: { id: string; kind: string; spec: Record<string, unknown>; leaseId: string; attempt: number }
  connection: { id: string; url?: string } | null
}

interface Change {
  seq: number
  table: string
  change: 'added' | 'removed' | 'modified'
  key: unknown[] | null
  old?: unknown[]
  new?: unknown[]
  fields?: { column: string; old: unknown; new: unknown; patch?: unknown[] }[]
}

const snapshotResult = (id: string, finishedAt: string) => ({
  id,
  name: 'shop',
  repository: '/backups/shop',
  startedAt: finishedAt,
  finishedAt,
  durationMs: 10,
  totals: { tables: 2, rows: 10, bytes: 100, chunks: 1, newBytes: 50, reusedChunks: 0 },
  warnings: [],
})

const added = (table: string, id: number, name: string): Change => ({
  seq: 0,
  table,
  change: 'added',
  key: [id],
  new: [id, name],
})
const removed = (table: string, id: number, name: string): Change => ({
  seq: 0,
  table,
  change: 'removed',
  key: [id],
  old: [id, name],
})
const modified = (table: string, id: number, from: string, to: string): Change => ({
  seq: 0,
  table,
  change: 'modified',
  key: [id],
  old: [id, from],
  new: [id, to],
  fields: [
    { column: 'doc', old: from, new: to, patch: [{ op: 'replace', path: '/a/b', value: 2 }] },
  ],
})
const upload = (changes: Change[]) => changes.map(({ seq: _seq, ...c }) => c)

const diffResult = (changes: number, pages: number) => ({
  format: 'dbsnap-diff',
  version: 1,
  summary: {
    equal: false,
    schemaChanges: 1,
    tables: { added: 0, removed: 0, changed: 2, unchanged: 0 },
    rows: { added: 3, removed: 1, modified: 2 },
  },
  schema: [
    { kind: 'column', change: 'added', object: 'public.users.country', new: { type: 'text' } },
  ],
  warnings: [],
  upload: { pages, changes },
})

describe.each(DIALECTS)('diffs through the API on %s', (dialect) => {
  let h: Harness
  let member: string
  let readOnly: string
  let projectBase: string
  let connectionId: string
  let agentToken: string
  const snapshots: string[] = []

  beforeAll(async () => {
    h = await harness(dialect, { queue: { leaseMs: 60_000, maxAttempts: 3, backoffBaseMs: 0 } })
    const adminIn = await h.register()
    const admin = adminIn.tokens.accessToken
    const memberIn = await h.register()
    member = memberIn.tokens.accessToken
    const readOnlyIn = await h.register()
    readOnly = readOnlyIn.tokens.accessToken
    const post = async (path: string, body: unknown, token = admin) => {
      const res = await h.call('POST', path, { token, body })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as Record<string, unknown>
    }
    const orgId = (
      await post('/api/v1/orgs', { name: 'Acme', slug: `acme-${randomBytes(4).toString('hex')}` })
    ).id as string
    await addMember(h.cp.db, { orgId, userId: memberIn.user.id, role: 'member' })
    await addMember(h.cp.db, { orgId, userId: readOnlyIn.user.id, role: 'read-only' })
    const projectId = (await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' }))
      .id as string
    projectBase = `/api/v1/orgs/${orgId}/projects/${projectId}`
    connectionId = (
      await post(`${projectBase}/connections`, {
        name: 'shop',
        url: 'postgres://app:s3cret-pw@db.internal:5432/shop',
      })
    ).id as string
    const made = (await post(`${projectBase}/agents`, { name: 'backup-1' })) as {
      registrationToken: string
    }
    agentToken = (
      await post('/api/v1/agent/register', {
        token: made.registrationToken,
        version: '0.1.0',
        hostname: 'backup-1',
      })
    ).credential as string
    // Two snapshots in the catalogue, as the agent reports them.
    for (const at of ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z']) {
      await post(`${projectBase}/connections/${connectionId}/snapshots`, {}, member)
      const { job } = await leaseJob()
      const id = randomBytes(16).toString('hex')
      await post(
        `/api/v1/agent/jobs/${job.id}/result`,
        { leaseId: job.leaseId, result: snapshotResult(id, at) },
        agentToken,
      )
      snapshots.push(id)
    }
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  async function leaseJob(): Promise<LeasedBody> {
    const res = await h.call('POST', '/api/v1/agent/lease', {
      token: agentToken,
      body: { waitSeconds: 0 },
    })
    expect(res.status).toBe(200)
    return (await res.json()) as LeasedBody
  }
  const sendPage = (
    jobId: string,
    leaseId: string,
    page: number,
    changes: unknown[],
    tables?: unknown[],
  ) =>
    h.call('POST', `/api/v1/agent/jobs/${jobId}/diff-changes`, {
      token: agentToken,
      body: { leaseId, page, changes, ...(tables === undefined ? {} : { tables }) },
    })
  const requestDiff = (body: unknown, token = member) =>
    h.call('POST', `${projectBase}/diffs`, { token, body })
  const changesOf = async (diffId: string, query = '', headers: Record<string, string> = {}) =>
    h.call('GET', `${projectBase}/diffs/${diffId}/changes${query}`, { token: readOnly, headers })
  /** Every change of the diff matching `query`, walking pages of `limit`. */
  async function walk(diffId: string, query: string, limit: number): Promise<Change[]> {
    const all: Change[] = []
    let cursor: string | null = null
    do {
      const q = `?limit=${limit}${query}${cursor === null ? '' : `&cursor=${cursor}`}`
      const res = await changesOf(diffId, q)
      expect(res.status, await res.clone().text()).toBe(200)
      const page = (await res.json()) as { items: Change[]; nextCursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(limit)
      all.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    return all
  }

  // Produced in this order by the engine: users first, then orders, then users again (a page
  // boundary does not care about tables); listed by (table, seq).
  const page0 = [
    added('public.users', 1, 'Ada'),
    added('public.users', 2, 'Grace 100%'),
    modified('public.users', 3, '{"a":{"b":1}}', '{"a":{"b":2}}'),
  ]
  const page1 = [
    removed('public.orders', 10, 'SKU-0018'),
    modified('public.orders', 11, 'pending', 'shipped'),
    added('public.users', 4, 'Linus'),
  ]
  /** The columns each page names: users gained a column, orders kept theirs. */
  const USERS = { key: ['id'], old: ['id', 'name'], new: ['id', 'name', 'country'] }
  const ORDERS = { key: ['id'], old: ['id', 'sku'], new: ['id', 'sku'] }
  const tables0 = [{ table: 'public.users', columns: USERS }]
  const tables1 = [
    { table: 'public.orders', columns: ORDERS },
    { table: 'public.users', columns: USERS },
  ]
  let diffId: string

  it('queues a diff of two snapshots, and refuses what is not one', async () => {
    expect((await requestDiff({ from: snapshots[0], to: snapshots[1] }, readOnly)).status).toBe(403)
    const both = await requestDiff({ from: snapshots[0], to: snapshots[1], live: true })
    expect(both.status).toBe(400)
    expect((await requestDiff({ from: snapshots[0] })).status).toBe(400)
    const unknown = await requestDiff({ from: snapshots[0], to: 'ffffffffffffffff' })
    expect(unknown.status).toBe(404)
    expect((await errorOf(unknown)).code).toBe('NOT_FOUND')

    const res = await requestDiff({
      from: snapshots[0],
      to: snapshots[1],
      tables: ['public.users', 'public.orders'],
    })
    expect(res.status, await res.clone().text()).toBe(202)
    const { diff, job } = (await res.json()) as {
      diff: Record<string, unknown> & { id: string }
      job: { id: string; kind: string; spec: unknown; connectionId: string | null }
    }
    diffId = diff.id
    expect(diff).toMatchObject({
      jobId: job.id,
      state: 'pending',
      connectionId,
      from: { snapshotId: snapshots[0], name: 'shop', takenAt: '2026-12-01T00:00:00.000Z' },
      to: { snapshotId: snapshots[1], name: 'shop', takenAt: '2026-12-02T00:00:00.000Z' },
      options: { tables: ['public.users', 'public.orders'] },
      summary: null,
      tables: null,
    })
    // Two snapshots need no database: the job carries no connection (nor its credential).
    expect(job).toMatchObject({
      kind: 'diff',
      connectionId: null,
      spec: { kind: 'diff', from: snapshots[0], to: snapshots[1] },
    })
  })

  it('stores pages fenced by the lease, once each, up to 1 MiB', async () => {
    const { job, connection } = await leaseJob()
    expect(job.kind).toBe('diff')
    expect(connection).toBeNull()
    expect((await sendPage(job.id, job.leaseId, 0, upload(page0), tables0)).status).toBe(200)
    expect((await sendPage(job.id, job.leaseId, 1, upload(page1), tables1)).status).toBe(200)
    // A page sent again (the answer was lost) replaces itself.
    expect(await (await sendPage(job.id, job.leaseId, 1, upload(page1), tables1)).json()).toEqual({
      page: 1,
      stored: 3,
    })
    const badColumns = await sendPage(job.id, job.leaseId, 1, upload(page1), [
      { table: 'public.orders', columns: { key: ['id'], old: 'id' } },
    ])
    expect(badColumns.status).toBe(400)
    const stranger = await sendPage(job.id, '00000000-0000-4000-8000-000000000000', 2, [])
    expect(stranger.status).toBe(409)
    expect((await errorOf(stranger)).code).toBe('LEASE_LOST')
    const bad = await sendPage(job.id, job.leaseId, 2, [{ table: 't', change: 'renamed', key: [] }])
    expect(bad.status).toBe(400)
    // Above the API's 64 KiB: taken here; above 1 MiB: refused.
    const big = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        table: 'public.blobs',
        change: 'added',
        key: [i],
        new: [i, 'x'.repeat(1000)],
      }))
    expect((await sendPage(job.id, job.leaseId, 2, big(200))).status).toBe(200)
    const tooBig = await sendPage(job.id, job.leaseId, 2, big(1100))
    expect(tooBig.status).toBe(413)
    expect((await sendPage(job.id, job.leaseId, 2, [])).status).toBe(200)

    // While it runs, what is there can be read, but not cached.
    const running = await changesOf(diffId)
    expect(running.headers.get('cache-control')).toBe('private, no-cache')
    expect(running.headers.get('etag')).toBeNull()
    expect(((await running.json()) as { items: unknown[] }).items).toHaveLength(6)

    // A result that does not account for what was stored is refused, and nothing recorded.
    const short = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: diffResult(5, 3) },
    })
    expect(short.status).toBe(400)
    const done = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: diffResult(6, 3) },
    })
    expect(done.status, await done.clone().text()).toBe(200)
    // After the job ended, a late page is refused.
    expect((await sendPage(job.id, job.leaseId, 3, upload(page0))).status).toBe(409)
  })

  it('returns the summary, schema changes and per-table counts of a finished diff', async () => {
    const res = await h.call('GET', `${projectBase}/diffs/${diffId}`, { token: readOnly })
    expect(res.status).toBe(200)
    const diff = (await res.json()) as Record<string, unknown>
    expect(diff).toMatchObject({
      state: 'succeeded',
      summary: { rows: { added: 3, removed: 1, modified: 2 } },
      schema: [{ kind: 'column', change: 'added', object: 'public.users.country' }],
      tables: [
        { table: 'public.orders', added: 0, removed: 1, modified: 1, columns: ORDERS },
        { table: 'public.users', added: 3, removed: 0, modified: 1, columns: USERS },
      ],
      warnings: [],
    })
    expect(diff['finishedAt']).toEqual(expect.any(String))
  })

  it('reads the counts of a diff stored before column names were kept with columns null', async () => {
    const stored = await h.cp.db
      .selectFrom('diffs')
      .select('tableCounts')
      .where('id', '=', diffId)
      .executeTakeFirstOrThrow()
    const before = (JSON.parse(stored.tableCounts!) as { columns?: unknown }[]).map(
      ({ columns: _columns, ...counts }) => counts,
    )
    const set = (tableCounts: string) =>
      h.cp.db.updateTable('diffs').set({ tableCounts }).where('id', '=', diffId).execute()
    await set(JSON.stringify(before))
    try {
      const res = await h.call('GET', `${projectBase}/diffs/${diffId}`, { token: readOnly })
      expect(((await res.json()) as { tables: unknown }).tables).toEqual([
        { table: 'public.orders', added: 0, removed: 1, modified: 1, columns: null },
        { table: 'public.users', added: 3, removed: 0, modified: 1, columns: null },
      ])
    } finally {
      await set(stored.tableCounts!)
    }
  })

  it('pages changes in (table, seq) order with stable cursors', async () => {
    const expected = [
      { table: 'public.orders', key: [10] },
      { table: 'public.orders', key: [11] },
      { table: 'public.users', key: [1] },
      { table: 'public.users', key: [2] },
      { table: 'public.users', key: [3] },
      { table: 'public.users', key: [4] },
    ]
    for (const limit of [1, 2, 4, 100]) {
      const all = await walk(diffId, '', limit)
      expect(all.map((c) => ({ table: c.table, key: c.key }))).toEqual(expected)
    }
    const all = await walk(diffId, '', 100)
    expect(all.map((c) => c.seq)).toEqual([1000, 1001, 0, 1, 2, 1002])
    // Field-level changes and their RFC 6902 paths come back as uploaded.
    expect(all[4]).toMatchObject({
      change: 'modified',
      fields: [{ column: 'doc', patch: [{ op: 'replace', path: '/a/b', value: 2 }] }],
    })
    const bad = await changesOf(diffId, '?cursor=bm90LWEtY3Vyc29y')
    expect(bad.status).toBe(400)
  })

  it('filters by table and change type, and searches keys and values', async () => {
    const keys = async (query: string) =>
      (await walk(diffId, query, 2)).map((c) => `${c.table}:${String(c.key)}`)
    expect(await keys('&table=public.orders')).toEqual(['public.orders:10', 'public.orders:11'])
    expect(await keys('&type=modified')).toEqual(['public.orders:11', 'public.users:3'])
    expect(await keys('&table=public.users&type=added')).toEqual([
      'public.users:1',
      'public.users:2',
      'public.users:4',
    ])
    // Values, before or after, case-insensitively.
    expect(await keys('&q=SHIPPED')).toEqual(['public.orders:11'])
    expect(await keys('&q=sku-0018')).toEqual(['public.orders:10'])
    expect(await keys('&q=%22b%22%3A2')).toEqual(['public.users:3'])
    // The key's text form.
    expect(await keys('&q=11')).toEqual(['public.orders:11'])
    // `%` and `_` are themselves, not patterns.
    expect(await keys('&q=100%25')).toEqual(['public.users:2'])
    expect(await keys('&q=%25')).toEqual(['public.users:2'])
    expect(await keys('&q=_')).toEqual([])
    expect(await keys('&q=nothing-like-it')).toEqual([])
  })

  it('serves pages of a finished diff as immutable, with an ETag and 304', async () => {
    const first = await changesOf(diffId, '?limit=2')
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('private, max-age=31536000, immutable')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await changesOf(diffId, '?limit=2', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const weak = await changesOf(diffId, '?limit=2', { 'if-none-match': `W/${etag}` })
    expect(weak.status).toBe(304)
    const other = await changesOf(diffId, '?limit=3', { 'if-none-match': etag })
    expect(other.status).toBe(200)
    expect(other.headers.get('etag')).not.toBe(etag)
  })

  it('counts the changes that pass the filters, per table, cached like the pages', async () => {
    const counts = async (query: string, headers: Record<string, string> = {}) =>
      h.call('GET', `${projectBase}/diffs/${diffId}/counts${query}`, { token: readOnly, headers })
    const all = await counts('')
    expect(all.status).toBe(200)
    expect(await all.json()).toEqual({
      total: 6,
      tables: [
        { table: 'public.orders', added: 0, removed: 1, modified: 1 },
        { table: 'public.users', added: 3, removed: 0, modified: 1 },
      ],
    })
    expect(await (await counts('?type=modified&q=%22b%22%3A2')).json()).toEqual({
      total: 1,
      tables: [{ table: 'public.users', added: 0, removed: 0, modified: 1 }],
    })
    expect(await (await counts('?table=public.none')).json()).toEqual({ total: 0, tables: [] })
    const etag = all.headers.get('etag')!
    expect(all.headers.get('cache-control')).toBe('private, max-age=31536000, immutable')
    expect((await counts('', { 'if-none-match': etag })).status).toBe(304)
    expect((await counts('?type=renamed')).status).toBe(400)
  })

  it('exports a succeeded diff as NDJSON, every change a line, filtered like the pages', async () => {
    const exported = async (query: string) =>
      h.call('GET', `${projectBase}/diffs/${diffId}/export${query}`, { token: readOnly })
    const res = await exported('?format=ndjson')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="diff-${diffId}.ndjson"`,
    )
    const lines = (await res.text()).split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map((line) => JSON.parse(line) as Change)).toEqual(await walk(diffId, '', 100))
    const orders = await (await exported('?format=ndjson&table=public.orders&q=sku')).text()
    expect(
      orders
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Change).key),
    ).toEqual([[10]])
    expect((await exported('?format=pdf')).status).toBe(400)
    expect((await exported('')).status).toBe(400)
  })

  it('gives an export an ETag: the same file again is a 304, another filter or format is not', async () => {
    const exported = async (query: string, headers: Record<string, string> = {}) =>
      h.call('GET', `${projectBase}/diffs/${diffId}/export${query}`, { token: readOnly, headers })
    const first = await exported('?format=ndjson')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]{27}"$/)
    expect(first.headers.get('cache-control')).toBe('private, no-cache')
    expect((await first.text()).length).toBeGreaterThan(0)
    const again = await exported('?format=ndjson', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(etag)
    expect(await again.text()).toBe('')
    expect((await exported('?format=ndjson', { 'if-none-match': `W/${etag}` })).status).toBe(304)
    // Another file: another tag, and a full answer to the first one's.
    for (const query of ['?format=markdown', '?format=ndjson&table=public.orders']) {
      const other = await exported(query, { 'if-none-match': etag })
      expect(other.status).toBe(200)
      expect(other.headers.get('etag')).not.toBe(etag)
      await other.text()
    }
    const stale = await exported('?format=ndjson', { 'if-none-match': '"stale"' })
    expect(stale.status).toBe(200)
    await stale.text()
  })

  it('exports a succeeded diff as the engine’s Markdown report', async () => {
    const exported = async (query: string) =>
      h.call('GET', `${projectBase}/diffs/${diffId}/export${query}`, { token: readOnly })
    const res = await exported('?format=markdown')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="diff-${diffId}.md"`)
    const text = await res.text()
    expect(text).toMatch(
      /^# Diff of shop\n\nSnapshots: shop [0-9a-f]{12} \(2026-12-01T00:00:00.000Z\) → /,
    )
    expect(text).toContain('## Schema (1)\n\n```diff\n+ column public.users.country\n```')
    expect(text).toContain(
      '### public.orders\n\n```diff\n- 10 [10,"SKU-0018"]\n~ 11 doc: replace /a/b 2\n```',
    )
    // Per-table counts without the cost (the control plane does not keep it), then the summary.
    expect(text).toContain('| table | status | added | removed | modified |\n')
    expect(text).toContain('| public.users | changed | 3 | 0 | 1 |')
    expect(
      text.trimEnd().endsWith('**1 schema change, 2 tables with changed data, rows +3 -1 \\~2**'),
    ).toBe(true)
    const filtered = await (await exported('?format=markdown&type=added&q=grace')).text()
    expect(filtered).toContain('Filtered by type added, search “grace”: 1 of 6 changes.')
    expect(filtered).toContain('### public.users\n\n```diff\n+ 2 [2,"Grace 100%"]\n```')
    expect(filtered).not.toContain('### public.orders')
  })

  it('exports only a succeeded diff: 409 DIFF_NOT_READY before', async () => {
    const res = await requestDiff({ from: snapshots[0], to: snapshots[1] })
    const { diff } = (await res.json()) as { diff: { id: string } }
    for (const format of ['ndjson', 'markdown']) {
      const early = await h.call('GET', `${projectBase}/diffs/${diff.id}/export?format=${format}`, {
        token: readOnly,
      })
      expect(early.status).toBe(409)
      expect((await errorOf(early)).code).toBe('DIFF_NOT_READY')
    }
    // Leased and finished, so the tests after this one find the queue as they expect.
    const { job } = await leaseJob()
    const done = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: diffResult(0, 0) },
    })
    expect(done.status).toBe(200)
  })

  it('streams an export of more changes than a page, and caps the Markdown at 1,000', async () => {
    const res = await requestDiff({ from: snapshots[0], to: snapshots[1] })
    const { diff } = (await res.json()) as { diff: { id: string } }
    const { job } = await leaseJob()
    const many = Array.from({ length: 1_100 }, (_, i) => added('public.big', i, `row ${i}`))
    for (let page = 0; page < 3; page++) {
      const changes = upload(many.slice(page * 500, (page + 1) * 500))
      expect((await sendPage(job.id, job.leaseId, page, changes)).status).toBe(200)
    }
    const done = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: diffResult(1_100, 3) },
    })
    expect(done.status, await done.clone().text()).toBe(200)
    const exported = (format: string) =>
      h.call('GET', `${projectBase}/diffs/${diff.id}/export?format=${format}`, { token: readOnly })
    const whole = await (await exported('ndjson')).text()
    // It comes in pieces, read as the client reads: one piece, then a client that goes away.
    const reader = (await exported('ndjson')).body!.getReader()
    const first = (await reader.read()).value as Uint8Array
    expect(first.byteLength).toBeGreaterThan(0)
    expect(first.byteLength).toBeLessThan(Buffer.byteLength(whole))
    await reader.cancel()
    const ndjson = whole.trim().split('\n')
    expect(ndjson.map((l) => (JSON.parse(l) as Change).key![0])).toEqual(
      Array.from({ length: 1_100 }, (_, i) => i),
    )
    const markdown = await (await exported('markdown')).text()
    expect(markdown.match(/^\+ \d+ /gm)).toHaveLength(1_000)
    expect(markdown).toContain('+ 999 [999,"row 999"]\n… 100 more\n```')
  })

  it('starts the pages over when the job is retried', async () => {
    const res = await requestDiff({ from: snapshots[1], to: snapshots[0] })
    const { diff } = (await res.json()) as { diff: { id: string } }
    const first = await leaseJob()
    await sendPage(first.job.id, first.job.leaseId, 0, upload(page0), tables0)
    await sendPage(first.job.id, first.job.leaseId, 1, upload(page1), tables1)
    const failed = await h.call('POST', `/api/v1/agent/jobs/${first.job.id}/failure`, {
      token: agentToken,
      body: {
        leaseId: first.job.leaseId,
        error: { code: 'CONNECTION_LOST', message: 'lost', retryable: true },
      },
    })
    expect(await failed.json()).toMatchObject({ state: 'pending' })
    const second = await leaseJob()
    expect(second.job).toMatchObject({ id: first.job.id, attempt: 2 })
    // The old lease can no longer add pages.
    expect((await sendPage(first.job.id, first.job.leaseId, 2, upload(page0))).status).toBe(409)
    // The retry names only orders' columns (users': none, as an older agent would send).
    const ordersOnly = [{ table: 'public.orders', columns: ORDERS }]
    expect(
      (await sendPage(second.job.id, second.job.leaseId, 0, upload(page1), ordersOnly)).status,
    ).toBe(200)
    expect((await walk(diff.id, '', 100)).map((c) => c.seq)).toEqual([0, 1, 2])
    const done = await h.call('POST', `/api/v1/agent/jobs/${second.job.id}/result`, {
      token: agentToken,
      body: { leaseId: second.job.leaseId, result: diffResult(3, 1) },
    })
    expect(done.status, await done.clone().text()).toBe(200)
    const read = (await (
      await h.call('GET', `${projectBase}/diffs/${diff.id}`, { token: readOnly })
    ).json()) as { tables: unknown }
    // The first attempt's columns went with its pages.
    expect(read.tables).toEqual([
      { table: 'public.orders', added: 0, removed: 1, modified: 1, columns: ORDERS },
      { table: 'public.users', added: 1, removed: 0, modified: 0, columns: null },
    ])
  })

  it('clears an earlier attempt’s pages even when the retry uploads none', async () => {
    const res = await requestDiff({ from: snapshots[0], to: snapshots[1], schemaOnly: true })
    const { diff } = (await res.json()) as { diff: { id: string } }
    const first = await leaseJob()
    await sendPage(first.job.id, first.job.leaseId, 0, upload(page0))
    await h.call('POST', `/api/v1/agent/jobs/${first.job.id}/failure`, {
      token: agentToken,
      body: {
        leaseId: first.job.leaseId,
        error: { code: 'CONNECTION_LOST', message: 'lost', retryable: true },
      },
    })
    const second = await leaseJob()
    const done = await h.call('POST', `/api/v1/agent/jobs/${second.job.id}/result`, {
      token: agentToken,
      body: { leaseId: second.job.leaseId, result: diffResult(0, 0) },
    })
    expect(done.status, await done.clone().text()).toBe(200)
    expect(await walk(diff.id, '', 10)).toEqual([])
    const read = (await (
      await h.call('GET', `${projectBase}/diffs/${diff.id}`, { token: readOnly })
    ).json()) as { tables: unknown }
    expect(read.tables).toEqual([])
  })

  it('queues a diff against the live database of the snapshot’s connection', async () => {
    const res = await requestDiff({ from: snapshots[1], live: true, dataOnly: true })
    expect(res.status).toBe(202)
    const { diff, job } = (await res.json()) as {
      diff: Record<string, unknown>
      job: { connectionId: string; spec: unknown }
    }
    expect(diff).toMatchObject({
      to: { live: true, connectionId, takenAt: null },
      options: { dataOnly: true },
    })
    expect(job).toMatchObject({
      connectionId,
      spec: { kind: 'diff', from: snapshots[1], live: true, connectionId, dataOnly: true },
    })
    const leased = await leaseJob()
    expect(leased.connection).toMatchObject({ id: connectionId })
    expect(leased.job.spec).toMatchObject({ live: true })
  })

  it('lists diffs newest first, by state and connection, paged', async () => {
    const list = async (query: string) => {
      const res = await h.call('GET', `${projectBase}/diffs${query}`, { token: readOnly })
      expect(res.status).toBe(200)
      return (await res.json()) as { diffs: { id: string; state: string }[]; next: string | null }
    }
    const all = await list('')
    expect(all.diffs).toHaveLength(6)
    expect(all.diffs.map((d) => d.state)).toEqual([
      'running',
      ...Array<string>(5).fill('succeeded'),
    ])
    expect(all.diffs.at(-1)!.id).toBe(diffId)
    expect((await list('?state=running')).diffs).toHaveLength(1)
    expect((await list(`?connectionId=${connectionId}`)).diffs).toHaveLength(6)
    expect((await list('?connectionId=nope')).diffs).toHaveLength(0)
    const first = await list('?limit=5')
    expect(first.diffs).toHaveLength(5)
    const rest = await list(`?limit=5&cursor=${first.next!}`)
    expect(rest.diffs.map((d) => d.id)).toEqual([diffId])
    expect(rest.next).toBeNull()
  })
})
