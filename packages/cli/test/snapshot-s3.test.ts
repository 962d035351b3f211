// `dbsnap snapshot` to an S3 repository (MinIO) the way users configure it — the AWS SDK's
// environment variables — and the S3 failures a user meets: no bucket, a wrong secret, an
// endpoint that is down. Each is one line with a stable code, and no secret is ever printed.

import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { closedPort } from '../../../test/net.js'
import { testServices, withDatabase } from '../../../test/services.js'

const dbName = `dbsnap_it_s3_${process.pid}_${randomBytes(3).toString('hex')}`

describe('dbsnap snapshot to S3', () => {
  const { pgUrl, s3 } = testServices()
  const url = withDatabase(pgUrl, dbName)
  const repo = `s3://${s3.bucket}/it-snapshot-${process.pid}-${randomBytes(3).toString('hex')}`
  const env = {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  }
  let admin: pg.Client

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(`CREATE TABLE t (id int PRIMARY KEY, v text);
      INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i`)
    await db.end()
  })

  afterAll(async () => {
    await runCli(['forget', '--repo', repo, '--keep-last', '0', '--prune', '--grace', '0s'], env)
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin?.end()
  })

  it('snapshots, lists, shows and verifies', async () => {
    const run = await runCli(['snapshot', url, '--repo', repo, '--json'], env)
    expect(run.code, run.stderr).toBe(0)
    const { id } = json<{ id: string }>(run)
    const list = json<{ snapshots: { id: string }[] }>(
      await runCli(['snapshots', '--repo', repo, '--json'], env),
    )
    expect(list.snapshots.map((s) => s.id)).toEqual([id])
    const shown = json<{ rows: unknown[][] }>(
      await runCli(
        ['show', id.slice(0, 8), '--repo', repo, '--table', 't', '--key', '7', '--json'],
        env,
      ),
    )
    expect(shown.rows).toEqual([[7, '8f14e45fceea167a5a36dedd4bea2543']])
    const verify = await runCli(
      ['verify', '--repo', repo, '--read-data-subset', '100%', '--json'],
      env,
    )
    expect(verify.code).toBe(0)
    expect(json<{ problems: unknown[] }>(verify).problems).toEqual([])
  })

  const failures: [
    string,
    () =>
      | { args: string[]; env: Record<string, string> }
      | Promise<{ args: string[]; env: Record<string, string> }>,
    string,
  ][] = [
    [
      'a missing bucket',
      () => ({ args: ['--repo', `s3://no-such-bucket-${process.pid}/x`], env }),
      'STORAGE_LOCATION_NOT_FOUND',
    ],
    [
      'a wrong secret',
      () => ({
        args: ['--repo', repo],
        env: { ...env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-123' },
      }),
      'STORAGE_PERMISSION_DENIED',
    ],
    [
      'an endpoint that is down',
      async () => ({
        args: ['--repo', repo],
        env: { ...env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await closedPort()}` },
      }),
      'STORAGE_UNAVAILABLE',
    ],
  ]

  it.each(failures)('%s fails with one clear line', async (_name, setup, code) => {
    const { args, env: runEnv } = await setup()
    const run = await runCli(['snapshot', url, ...args], runEnv)
    expect(run.code).toBe(4)
    expect(run.stdout).toBe('')
    const lines = run.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^dbsnap: error \\[${code}\\]: `))
    expect(run.stderr).not.toContain(s3.secretAccessKey)
    expect(run.stderr).not.toContain('wrong-secret-value-123')
  })
})
