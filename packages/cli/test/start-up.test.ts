// The binary's start-up (decision 0027): `--version` as oclif prints it without loading oclif, and
// the compile cache in the user's cache directory, never a reason to fail.

import { existsSync, readdirSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Config } from '@oclif/core/config'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../test/cli.js'

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
      expect(
        readdirSync(join(home, 'dbsnap', 'compile-cache', versions[0]!)).length,
      ).toBeGreaterThan(50)

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
})
