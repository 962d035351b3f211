// What `dbsnap` refuses before doing any work, end to end: an empty repository location, a
// catalogue name that `<name>@latest~N` could not name, a number of jobs below one or not a
// number, an export file that cannot be created.

import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

describe('dbsnap input checks (PostgreSQL)', () => {
  let db: TestDatabase
  let repo: string
  let home: string

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_inputs')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-inputs-'))
    home = await mkdtemp(join(tmpdir(), 'dbsnap-it-inputs-home-'))
    await db.client.query('CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1)')
    const first = await runCli(['snapshot', db.url, '--repo', repo, '--name', 'inputs'])
    expect(first.code, first.stderr).toBe(0)
  })

  const symlinkDangling = (path: string): Promise<void> => symlink(join(home, 'nowhere'), path)

  afterAll(async () => {
    await db?.drop()
    for (const dir of [repo, home])
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('refuses an empty --repo or DBSNAP_REPO instead of using the default repository', async () => {
    // A default repository exists: an empty setting must not silently pick it.
    const env = { HOME: home, XDG_DATA_HOME: join(home, 'data') }
    expect(
      (await runCli(['snapshot', db.url, '--repo', join(home, 'data', 'dbsnap', 'repo')])).code,
    ).toBe(0)
    const flag = await runCli(['snapshots', '--repo', ''], env)
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe(
      'dbsnap: error [INVALID_ARGUMENT]: expected --repo to be a directory or s3://bucket/prefix, got an empty value\n',
    )
    const variable = await runCli(['snapshot', db.url], { ...env, DBSNAP_REPO: '' })
    expect(variable.code).toBe(2)
    expect(variable.stderr).toContain('[CONFIG_INVALID]: expected DBSNAP_REPO to be')
    expect((await runCli(['snapshots', '--json'], env)).code).toBe(0)
  })

  it('fails at once on a --repo where no directory can be made (procfs, a dangling link)', async () => {
    // Node's own recursive mkdir retries such a path for ever, at full CPU.
    await symlinkDangling(join(home, 'dangling'))
    const locations = [join(home, 'dangling', 'repo')]
    if (process.platform === 'linux') locations.push('/proc/dbsnap-no-such/repo')
    for (const location of locations) {
      const run = await runCli(['snapshot', db.url, '--repo', location])
      expect(run.code, location).toBe(4)
      expect(run.stderr).toMatch(/^dbsnap: error \[STORAGE_FAILED\]: cannot create the directory /)
    }
  })

  it('refuses a --name that <name>@latest~N cannot name, saying which characters are allowed', async () => {
    for (const name of ['', 'a@b', 'shop~1', 'x y', 'db://x']) {
      const run = await runCli(['snapshot', db.url, '--repo', repo, '--name', name])
      expect(run.code, name).toBe(2)
      expect(run.stderr).toContain(
        `[INVALID_ARGUMENT]: expected --name to be 1 to 128 letters, digits, ".", "_" or "-"`,
      )
    }
    const run = await runCli(['snapshots', '--repo', repo, '--json'])
    expect(JSON.parse(run.stdout)).toMatchObject({ snapshots: [{ name: 'inputs' }] })
    expect((await runCli(['snapshot', db.url, '--repo', repo, '--name', 'shop.v2_é-1'])).code).toBe(
      0,
    )
  })

  it('refuses a --jobs that is not a whole number from 1 up, before connecting', async () => {
    for (const [jobs, expected] of [
      ['0', 'Expected an integer greater than or equal to 1 but received: 0'],
      ['-2', 'Expected an integer greater than or equal to 1 but received: -2'],
      ['abc', 'Expected an integer but received: abc'],
      ['1.5', 'Expected an integer but received: 1.5'],
    ] as const) {
      const run = await runCli(['snapshot', db.url, '--repo', repo, '--jobs', jobs])
      expect(run.code, jobs).toBe(2)
      expect(run.stderr).toContain(`dbsnap: error [INVALID_ARGUMENT]: Parsing --jobs ${expected}`)
    }
    const json = await runCli(['snapshot', db.url, '--repo', repo, '--jobs', '0', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } })
  })

  it('refuses an export --out in a missing directory or naming a directory, before reading', async () => {
    const out = await mkdtemp(join(tmpdir(), 'dbsnap-it-inputs-out-'))
    try {
      await writeFile(join(out, 'file'), '')
      const cases = [
        [
          join(out, 'missing', 'x.ndjson'),
          `expected the directory ${join(out, 'missing')} to exist, found none`,
        ],
        [out, 'it is a directory; give the name of a file to write in it'],
        [join(out, 'file', 'x.ndjson'), `${join(out, 'file')} is not a directory`],
      ]
      for (const [path, why] of cases) {
        const run = await runCli(['export', 'inputs@latest', '--repo', repo, '--out', path!])
        expect(run.code, run.stderr).toBe(2)
        expect(run.stderr).toBe(
          `dbsnap: error [OUTPUT_INVALID]: cannot write --out ${path}: ${why}\n`,
        )
      }
      expect(await readdir(out)).toEqual(['file'])
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
})
