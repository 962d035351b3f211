import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { KEY_FILE_NAME, loadSigningKey } from './signing-key.js'

describe('loadSigningKey', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  const sqliteIn = async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-key-'))
    return { dialect: 'sqlite' as const, path: join(dir, 'control-plane.sqlite') }
  }

  it('uses DBSNAP_JWT_SECRET when set', async () => {
    const secret = 's'.repeat(40)
    const key = await loadSigningKey(secret, { dialect: 'postgres', url: 'postgres://h/db' })
    expect(new TextDecoder().decode(key)).toBe(secret)
  })

  it('requires DBSNAP_JWT_SECRET with PostgreSQL', async () => {
    await expect(
      loadSigningKey(undefined, { dialect: 'postgres', url: 'postgres://h/db' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/DBSNAP_JWT_SECRET/) as string,
    })
  })

  it('makes a key file beside a SQLite database once, readable by its owner only', async () => {
    const location = await sqliteIn()
    const first = await loadSigningKey(undefined, location)
    expect(first.length).toBeGreaterThanOrEqual(32)
    expect((await stat(join(dir!, KEY_FILE_NAME))).mode & 0o777).toBe(0o600)
    expect(await loadSigningKey(undefined, location)).toEqual(first)
  })

  it('refuses a key file that holds too short a key', async () => {
    const location = await sqliteIn()
    await writeFile(join(dir!, KEY_FILE_NAME), 'short\n')
    await expect(loadSigningKey(undefined, location)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
  })
})
