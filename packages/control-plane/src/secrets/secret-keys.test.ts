import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SECRET_KEY_FILE_NAME, loadSecretBox } from './secret-keys.js'

const POSTGRES = { dialect: 'postgres' as const, url: 'postgres://h/db' }

describe('loadSecretBox', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  const tempDir = async () => (dir = await mkdtemp(join(tmpdir(), 'dbsnap-secret-')))

  it('uses DBSNAP_SECRET_KEY, and keeps DBSNAP_SECRET_KEY_PREVIOUS readable', async () => {
    const old = await loadSecretBox({ key: randomBytes(32).toString('base64') }, POSTGRES)
    const sealed = old.seal('pw', 'row')
    const box = await loadSecretBox(
      { key: randomBytes(32).toString('base64'), previous: old.current.bytes.toString('base64') },
      POSTGRES,
    )
    expect(box.current.id).not.toBe(old.current.id)
    expect(box.open(sealed, 'row')).toBe('pw')
  })

  it('refuses a key that is not base64 of 32 bytes', async () => {
    for (const key of ['not base64!', randomBytes(16).toString('base64')]) {
      await expect(loadSecretBox({ key }, POSTGRES)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/DBSNAP_SECRET_KEY/) as string,
      })
    }
  })

  it('reads DBSNAP_SECRET_KEY_FILE, and never creates it', async () => {
    const file = join(await tempDir(), 'key')
    await expect(loadSecretBox({ keyFile: file }, POSTGRES)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    const bytes = randomBytes(32)
    await writeFile(file, `${bytes.toString('base64')}\n`)
    expect((await loadSecretBox({ keyFile: file }, POSTGRES)).current.bytes).toEqual(bytes)
  })

  it('requires a key with PostgreSQL', async () => {
    await expect(loadSecretBox({}, POSTGRES)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('makes a key file beside a SQLite database once, readable by its owner only', async () => {
    const location = { dialect: 'sqlite' as const, path: join(await tempDir(), 'cp.sqlite') }
    const first = await loadSecretBox({}, location)
    expect((await stat(join(dir!, SECRET_KEY_FILE_NAME))).mode & 0o777).toBe(0o600)
    expect((await loadSecretBox({}, location)).current.id).toBe(first.current.id)
  })
})
