import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LeasedJob } from './control-plane-client.js'
import { engineSpec } from './engine-spec.js'

const leased = (
  kind: string,
  spec: Record<string, unknown>,
  connection: Partial<NonNullable<LeasedJob['connection']>> | null = {},
): LeasedJob => ({
  job: {
    id: 'j1',
    projectId: 'p1',
    kind,
    spec: { kind, ...spec },
    attempt: 1,
    maxAttempts: 5,
    leaseId: 'l1',
    leaseExpiresAt: '2026-12-03T12:00:00.000Z',
    heartbeatSeconds: 10,
  },
  connection:
    connection === null
      ? null
      : {
          id: 'c1',
          name: 'shop',
          engine: 'postgres',
          url: 'postgres://u:pw@db/shop',
          ...connection,
        },
})

describe('engineSpec', () => {
  it('adds the connection URL, the repository and the catalogue name to a snapshot', async () => {
    const spec = await engineSpec(
      leased('snapshot', { connectionId: 'c1', tags: { reason: 'nightly' } }),
      { repository: '/backups' },
    )
    expect(spec).toEqual({
      kind: 'snapshot',
      repository: '/backups',
      create: true,
      source: 'postgres://u:pw@db/shop',
      name: 'shop',
      tags: { reason: 'nightly' },
    })
  })

  it('resolves env: and file: references on the agent', async () => {
    const fromEnv = await engineSpec(
      leased('connection-test', {}, { url: undefined, ref: 'env:SHOP_URL' }),
      { repository: undefined, env: { SHOP_URL: 'mysql://a@b/c' } },
    )
    expect(fromEnv).toEqual({ kind: 'connection-test', source: 'mysql://a@b/c' })
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-'))
    await writeFile(join(dir, 'url'), 'mongodb://x@y/z\n')
    const fromFile = await engineSpec(
      leased('connection-test', {}, { url: undefined, ref: `file:${join(dir, 'url')}` }),
      { repository: undefined },
    )
    expect(fromFile).toMatchObject({ source: 'mongodb://x@y/z' })
    await expect(
      engineSpec(leased('connection-test', {}, { url: undefined, ref: 'env:UNSET' }), {
        repository: undefined,
        env: {},
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('env:UNSET') as string,
    })
  })

  it('needs a repository for jobs that use one, and keeps a name the engine would refuse out', async () => {
    await expect(
      engineSpec(leased('snapshot', {}), { repository: undefined }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    const spec = await engineSpec(leased('snapshot', {}, { name: 'shop db (prod)' }), {
      repository: '/r',
    })
    expect(spec).not.toHaveProperty('name')
    expect(await engineSpec(leased('verify', {}, null), { repository: '/r' })).toEqual({
      kind: 'verify',
      repository: '/r',
    })
  })

  it('maps restore, retention, export and verify, in the project’s repository over its own', async () => {
    const project = (job: LeasedJob): LeasedJob => ({ ...job, repository: 's3://b/shop' })
    expect(
      await engineSpec(
        project(leased('restore', { connectionId: 'c1', snapshot: 'ab12', dryRun: true })),
        { repository: '/r' },
      ),
    ).toEqual({
      kind: 'restore',
      repository: 's3://b/shop',
      snapshot: 'ab12',
      target: 'postgres://u:pw@db/shop',
      dryRun: true,
    })
    expect(
      await engineSpec(leased('retention', { connectionId: 'c1', policy: { keepLast: 2 } }), {
        repository: '/r',
      }),
    ).toEqual({
      kind: 'forget',
      repository: '/r',
      policy: { keepLast: 2 },
      names: ['shop'],
      prune: true,
    })
    // A connection name the engine refuses: its snapshots are named after the database.
    expect(
      await engineSpec(
        leased('retention', { policy: { keepDaily: 7 }, dryRun: true }, { name: 'shop db' }),
        { repository: '/r' },
      ),
    ).toMatchObject({ kind: 'forget', names: ['shop'], dryRun: true })
    expect(
      await engineSpec(leased('export', { snapshot: 'ab12', format: 'ndjson' }, null), {
        repository: '/r',
      }),
    ).toEqual({ kind: 'export', repository: '/r', snapshot: 'ab12', format: 'ndjson' })
  })

  it('maps a diff of catalogue snapshots to their ids, and `live` to the connection URL', async () => {
    const between = await engineSpec(
      leased('diff', { from: 'aa11', to: 'bb22', tables: ['public.users'] }, null),
      { repository: '/r' },
    )
    expect(between).toEqual({
      kind: 'diff',
      repository: '/r',
      from: 'aa11',
      to: 'bb22',
      tables: ['public.users'],
    })
    const live = await engineSpec(
      leased('diff', { from: 'aa11', live: true, connectionId: 'c1', dataOnly: true }),
      { repository: '/r' },
    )
    expect(live).toEqual({
      kind: 'diff',
      repository: '/r',
      from: 'aa11',
      live: 'postgres://u:pw@db/shop',
      dataOnly: true,
    })
    await expect(
      engineSpec(leased('diff', { from: 'aa11', live: true }, null), { repository: '/r' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})
