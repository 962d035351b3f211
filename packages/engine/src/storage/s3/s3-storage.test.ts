// Unit tests of what S3Storage decides without a server; test/s3-storage.test.ts runs it against
// MinIO.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { S3Storage, parseS3Url } from './s3-storage.js'

describe('parseS3Url', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket-1/dbsnap', { bucket: 'my.bucket-1', prefix: 'dbsnap' }],
    ['s3://b12/some/deep/prefix/', { bucket: 'b12', prefix: 'some/deep/prefix' }],
    ['s3://b12/A_b.c-d', { bucket: 'b12', prefix: 'A_b.c-d' }],
  ])('parses %j', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected)
  })

  it.each([
    ['https://bucket/x', /does not start with s3:\/\//],
    ['s3:/bucket', /does not start with s3:\/\//],
    ['s3://', /bucket name/],
    ['s3://ab', /bucket name/],
    ['s3://Upper', /bucket name/],
    ['s3://under_score', /bucket name/],
    ['s3://-dash', /bucket name/],
    ['s3://a..b', /bucket name/],
    ['s3://192.168.0.1', /bucket name/],
    ['s3://bucket//x', /prefix/],
    ['s3://bucket/a/../b', /prefix/],
    ['s3://bucket/a b', /prefix/],
    ['s3://bucket/x?versionId=1', /query strings/],
  ])('rejects %j with INVALID_ARGUMENT', (url, why) => {
    expect(() => parseS3Url(url)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(why) as string,
      }) as Error,
    )
  })

  it('never repeats credentials put in the URL', () => {
    let message = ''
    try {
      parseS3Url('s3://AKIAEXAMPLE:topsecret@bucket/x')
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/credentials do not belong in the URL/)
    expect(message).not.toContain('topsecret')
    expect(message).not.toContain('AKIAEXAMPLE')
  })
})

describe('S3Storage', () => {
  it('names its location s3://bucket/prefix, without endpoint or credentials', async () => {
    const storage = new S3Storage('s3://bucket/a/b/', {
      endpoint: 'http://user:pass@127.0.0.1:9',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      region: 'us-east-1',
    })
    expect(storage.location).toBe('s3://bucket/a/b')
    await storage.close()
    await storage.close()
    const root = new S3Storage({ bucket: 'bucket', prefix: '' }, { region: 'us-east-1' })
    expect(root.location).toBe('s3://bucket')
    await root.close()
  })

  it.each([
    [{ partSize: 1024 * 1024 }, /partSize to be an integer from 5242880 up/],
    [{ queueSize: 0 }, /queueSize/],
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ maxAttempts: 1.5 }, /maxAttempts/],
    [{ requestTimeoutMs: -1 }, /requestTimeoutMs/],
  ])('rejects the option %j with INVALID_ARGUMENT', (options, why) => {
    expect(() => new S3Storage('s3://bucket', options)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(why) as string,
      }) as Error,
    )
  })

  describe('without AWS settings in the environment', () => {
    const names = [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_PROFILE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_CONFIG_FILE',
      'AWS_SHARED_CREDENTIALS_FILE',
      'AWS_EC2_METADATA_DISABLED',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
    ]
    const saved = new Map<string, string | undefined>()

    beforeEach(() => {
      for (const name of names) {
        saved.set(name, process.env[name])
        delete process.env[name]
      }
      process.env['AWS_CONFIG_FILE'] = '/nonexistent/dbsnap-test/config'
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/dbsnap-test/credentials'
      process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
    })

    afterEach(() => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })

    it('asks for a region with CONFIG_INVALID', async () => {
      const storage = new S3Storage('s3://bucket', {
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      })
      await expect(storage.stat('config')).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('AWS_REGION') as string,
      })
      await storage.close()
    })

    it('asks for credentials with CONFIG_INVALID', async () => {
      const storage = new S3Storage('s3://bucket', {
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
      })
      await expect(storage.stat('config')).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('AWS_ACCESS_KEY_ID') as string,
      })
      await storage.close()
    })
  })
})
