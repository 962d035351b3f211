// The binary's start-up (decisions 0027, 0034): `--version` as oclif prints it without loading
// oclif, the compile cache in the user's cache directory, never a reason to fail, and the bundle.

import { existsSync, readdirSync } from 'node:fs'
import { chmod, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_MINIMUM } from '@dbsnap/engine/supported-node'
import { Config } from '@oclif/core/config'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { olderNode, posingAsNode, runNode } from '../../../test/older-node.js'
import { COMMANDS } from '../src/commands.js'

describe('dbsnap start-up', () => {
  let scratch: string
  /** The environment of a run with its own cache home (an empty NODE_COMPILE_CACHE is unset). */
  const env = (cacheHome: string): Record<string, string> => ({
    XDG_CACHE_HOME: cacheHome,
    NODE_COMPILE_CACHE: '',
  })
  // Node turns the cache off when this is set at all, even empty.
  const cacheDisabled = process.env.NODE_DISABLE_COMPILE_CACHE !== undefined

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'dbsnap-it-start-up-'))
  })
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true })
  })

  it('--version prints the name, version, platform and Node as oclif does', async () => {
    const run = await runCli(['--version'], env(join(scratch, 'version')))
    const oclif = await Config.load(fileURLToPath(new URL('..', import.meta.url)))
    expect(run).toEqual({ code: 0, stdout: `${oclif.userAgent}\n`, stderr: '' })
  })

  it.skipIf(cacheDisabled)(
    'keeps compiled code under XDG_CACHE_HOME, or NODE_COMPILE_CACHE when set',
    async () => {
      const home = join(scratch, 'xdg')
      expect((await runCli(['snapshots', '--help'], env(home))).code).toBe(0)
      const versions = readdirSync(join(home, 'dbsnap', 'compile-cache'))
      expect(versions).toHaveLength(1)
      // The bundle's few modules (decision 0034), not the ~480 files it was made from.
      const cached = readdirSync(join(home, 'dbsnap', 'compile-cache', versions[0]!)).length
      expect(cached).toBeGreaterThan(0)
      expect(cached).toBeLessThan(40)

      const chosen = join(scratch, 'chosen')
      const run = await runCli(['snapshots', '--help'], {
        ...env(join(scratch, 'unused')),
        NODE_COMPILE_CACHE: chosen,
      })
      expect(run.code).toBe(0)
      expect(existsSync(chosen)).toBe(true)
      expect(existsSync(join(scratch, 'unused'))).toBe(false)
    },
  )

  it('bundles every command there is', async () => {
    const dir = fileURLToPath(new URL('../src/commands', import.meta.url))
    const ids = (await readdir(dir, { recursive: true }))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => file.slice(0, -'.ts'.length).split(sep).join(':'))
    expect(Object.keys(COMMANDS).sort()).toEqual(ids.sort())
  })

  it('orders the commands as oclif would: its localeCompare sort is a code-unit sort in the bundle', async () => {
    const ids = Object.keys(COMMANDS)
    const byCodeUnit = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    expect(byCodeUnit).toEqual([...ids].sort((a, b) => a.localeCompare(b)))
    const config = await Config.load(fileURLToPath(new URL('..', import.meta.url)))
    expect(config.commands.map((c) => c.id)).toEqual(byCodeUnit)
    const main = await readFile(
      fileURLToPath(new URL('../bundle/main.js', import.meta.url)),
      'utf8',
    )
    expect(main).not.toContain('localeCompare')
  })

  it('bundles ASCII only, so V8 keeps each module one byte a character', async () => {
    const dir = fileURLToPath(new URL('../bundle', import.meta.url))
    const files = (await readdir(dir)).filter((file) => file.endsWith('.js'))
    expect(files.length).toBeGreaterThan(1)
    for (const file of files) {
      const code = await readFile(join(dir, file), 'utf8')
      // eslint-disable-next-line no-control-regex
      const at = code.search(/[^\x00-\x7f]/)
      expect(at === -1 ? '' : code.slice(Math.max(0, at - 40), at + 10), file).toBe('')
    }
  })

  it('runs without the cache when its directory cannot be made', async () => {
    // A file where the cache home should be: no directory can be created under it.
    const blocked = join(scratch, 'blocked')
    await writeFile(blocked, '')
    await chmod(blocked, 0o400)
    const run = await runCli(['snapshots', '--help'], env(blocked))
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain('snapshots')
  })

  it('runs without the cache where Node’s own mkdir would spin (procfs, a dangling link)', async () => {
    const dangling = join(scratch, 'dangling')
    await symlink(join(scratch, 'nowhere'), dangling)
    const homes = [dangling, join(dangling, 'deeper')]
    if (process.platform === 'linux') homes.push('/proc/dbsnap-no-such')
    for (const home of homes) {
      for (const args of [['--version'], ['snapshots', '--help']]) {
        const run = await runCli(args, env(home))
        expect(run.code, `${home} ${args.join(' ')}`).toBe(0)
        expect(run.stderr).toBe('')
      }
    }
  })

  describe('on a Node.js older than supported', () => {
    const { major, minor } = NODE_MINIMUM
    const older = `${major}.${minor - 1}.9`
    const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))

    it('checks the minimum of @dbsnap/engine/supported-node, which it writes out', async () => {
      const source = await readFile(bin, 'utf8')
      expect(source).toContain(`const NODE_MINIMUM = [${major}, ${minor}]`)
    })

    it('refuses to run with CONFIG_INVALID (exit 2), one line or a --json document', async () => {
      const vars = { ...(await posingAsNode(scratch, older)), ...env(join(scratch, 'old')) }
      const run = await runCli(['snapshots'], vars)
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(
        new RegExp(
          `^dbsnap: error \\[CONFIG_INVALID\\]: dbsnap needs Node\\.js ${major}\\.${minor} or newer, ` +
            `and this is Node\\.js v${older.replaceAll('.', '\\.')} \\(.+\\): put a newer node first on the PATH\n$`,
        ),
      )
      const asJson = await runCli(['snapshots', '--json'], vars)
      expect(asJson.code).toBe(2)
      expect(asJson.stderr).toBe('')
      expect(json(asJson)).toEqual({
        error: {
          code: 'CONFIG_INVALID',
          message: expect.stringContaining(`needs Node.js ${major}.${minor} or newer`) as string,
          retryable: false,
          details: { node: `v${older}`, required: `>=${major}.${minor}` },
        },
      })
    })

    it('runs on the oldest supported one', async () => {
      const vars = {
        ...(await posingAsNode(scratch, `${major}.${minor}.0`)),
        ...env(join(scratch, 'min')),
      }
      const run = await runCli(['--version'], vars)
      expect(run).toMatchObject({ code: 0, stderr: '' })
    })

    // The real thing: the check comes before anything an older Node cannot even link.
    const node = olderNode()
    it.runIf(node !== undefined)(`says so under a real older Node (${node})`, () => {
      for (const args of [['snapshots'], ['--version'], ['--help']]) {
        const run = runNode(node!, [bin, ...args])
        expect(run.status, args.join(' ')).toBe(2)
        expect(run.stderr).toMatch(/^dbsnap: error \[CONFIG_INVALID\]: dbsnap needs Node\.js /)
      }
    })
  })
})
