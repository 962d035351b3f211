import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeDirectories, makeDirectoriesSync } from './make-directories.js'

describe.each([
  ['makeDirectories', makeDirectories],
  [
    'makeDirectoriesSync',
    (path: string, mode?: number) => Promise.resolve().then(() => makeDirectoriesSync(path, mode)),
  ],
] as const)('%s', (_, make) => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-mkdir-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('creates the missing parents and returns the first directory it made', async () => {
    expect(await make(join(dir, 'a', 'b', 'c'), 0o700)).toBe(join(dir, 'a'))
    expect((await stat(join(dir, 'a', 'b', 'c'))).isDirectory()).toBe(true)
    expect((await stat(join(dir, 'a', 'b'))).mode & 0o777).toBe(0o700)
    expect(await make(join(dir, 'a', 'b', 'c'))).toBeUndefined()
    expect(await make(join(dir, 'a', 'b', 'd'))).toBe(join(dir, 'a', 'b', 'd'))
  })

  it('fails at once where a parent exists but cannot hold children (Node’s own spins)', async () => {
    await symlink(join(dir, 'gone'), join(dir, 'dangling'))
    // The link is in the way of a directory of that name: EEXIST, as `mkdir -p` says.
    await expect(make(join(dir, 'dangling', 'repo'))).rejects.toMatchObject({ code: 'EEXIST' })
    if (existsSync('/proc/self')) {
      await expect(make('/proc/dbsnap-no-such/repo')).rejects.toMatchObject({ code: 'ENOENT' })
    }
  })

  it('fails on a file in the way', async () => {
    await writeFile(join(dir, 'file'), 'x')
    await expect(make(join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' })
    await expect(make(join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' })
  })
})
