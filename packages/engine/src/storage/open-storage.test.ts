import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsStorage } from './fs/fs-storage.js'
import { openStorage } from './open-storage.js'
import { S3Storage } from './s3/s3-storage.js'

describe('openStorage', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-open-storage-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('opens an existing directory given as an absolute path, a relative path or a file:// URL', async () => {
    for (const location of [dir, relative(process.cwd(), dir), pathToFileURL(dir).href]) {
      const storage = await openStorage(location)
      expect(storage).toBeInstanceOf(FsStorage)
      expect(storage.location).toBe(dir)
    }
  })

  it('rejects a missing directory with STORAGE_LOCATION_NOT_FOUND unless asked to create it', async () => {
    const missing = join(dir, 'new', 'repo')
    await expect(openStorage(missing)).rejects.toMatchObject({ code: 'STORAGE_LOCATION_NOT_FOUND' })
    const storage = await openStorage(missing, { create: true })
    expect(storage.location).toBe(missing)
    expect((await stat(missing)).isDirectory()).toBe(true)
  })

  it('opens s3:// locations as S3Storage without any I/O', async () => {
    const storage = await openStorage('s3://my-bucket/some/prefix/', {
      s3: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1' },
    })
    expect(storage).toBeInstanceOf(S3Storage)
    expect(storage.location).toBe('s3://my-bucket/some/prefix')
    await storage.close()
  })

  it.each([
    ['', /got ""/],
    ['gs://bucket/x', /gs:\/\/ URL/],
    ['https://example.com/repo', /https:\/\/ URL/],
    ['file://remote-host/path', /file URL/],
    ['s3://Bad_Bucket', /bucket name/],
  ])('rejects %j with INVALID_ARGUMENT', async (location, why) => {
    await expect(openStorage(location)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(why) as string,
    })
  })
})
