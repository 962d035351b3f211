// `runSnapshot` takes the same snapshot in this thread (a process started with a small young
// generation, like the `dbsnap` binary) and in a worker thread (any other caller), and an abort
// stops either. Runs the built engine: the worker loads dist/.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runSnapshot, youngGenerationBounded, type SnapshotResult } from '../dist/index.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

let db: TestDatabase
let dir: string
const nodeOptions = process.env.NODE_OPTIONS

beforeAll(async () => {
  db = await createTestDatabase('dbsnap_run_snapshot')
  await db.client.query(`
    CREATE TABLE t (id int PRIMARY KEY, v text);
    INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 5000) i;
  `)
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-run-snapshot-'))
})

afterAll(async () => {
  await db.drop()
  await rm(dir, { recursive: true, force: true })
})

afterEach(() => {
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = nodeOptions
})

/** Runs a snapshot and tells whether its progress came from this thread's own call stack. */
async function snapshotOnce(
  repository: string,
  signal?: AbortSignal,
): Promise<{ result: SnapshotResult; here: boolean }> {
  let here: boolean | undefined
  const result = await runSnapshot({
    source: db.url,
    repository,
    create: true,
    signal,
    onProgress: () => {
      here ??= new Error().stack?.includes('createSnapshot') === true
    },
  })
  return { result, here: here === true }
}

describe('youngGenerationBounded', () => {
  it('is true only with --max-semi-space-size of at most 8 MiB', () => {
    process.env.NODE_OPTIONS = ''
    expect(youngGenerationBounded()).toBe(false)
    process.env.NODE_OPTIONS = '--max-semi-space-size=8'
    expect(youngGenerationBounded()).toBe(true)
    process.env.NODE_OPTIONS = '--max-semi-space-size=4 --max-semi-space-size=64'
    expect(youngGenerationBounded()).toBe(false)
    process.env.NODE_OPTIONS = '--max_semi_space_size=2'
    expect(youngGenerationBounded()).toBe(true)
  })
})

describe('runSnapshot', () => {
  it('runs in a worker thread when this one is not bounded, in this thread when it is', async () => {
    process.env.NODE_OPTIONS = ''
    const inWorker = await snapshotOnce(join(dir, 'worker'))
    expect(inWorker.here).toBe(false)
    process.env.NODE_OPTIONS = '--max-semi-space-size=8'
    const inline = await snapshotOnce(join(dir, 'inline'))
    expect(inline.here).toBe(true)
    // The same rows make the same chunks wherever they were read.
    expect(inline.result.totals).toEqual(inWorker.result.totals)
    expect(inline.result.tables).toEqual(inWorker.result.tables)
  })

  it.each([
    ['a worker thread', ''],
    ['this thread', '--max-semi-space-size=8'],
  ])('in %s: an aborted signal ends it with ABORTED', async (_, options) => {
    process.env.NODE_OPTIONS = options
    const controller = new AbortController()
    controller.abort()
    await expect(snapshotOnce(join(dir, 'aborted'), controller.signal)).rejects.toMatchObject({
      code: 'ABORTED',
    })
  })
})
