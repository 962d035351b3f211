import { describe, expect, it } from 'vitest'
import { engineOfUrl, redactConnectionUrl } from './connection-url.js'

describe('connection URLs', () => {
  it('names the engine of each accepted scheme', () => {
    expect(engineOfUrl('postgresql://db/x')).toBe('postgres')
    expect(engineOfUrl('MariaDB://db/x')).toBe('mysql')
    expect(engineOfUrl('mongodb+srv://a,b/x')).toBe('mongodb')
  })

  it('refuses other schemes without echoing a password', () => {
    expect(() => engineOfUrl('http://u:s3cret@db/x')).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.not.stringContaining('s3cret') as string,
      }),
    )
    expect(() => engineOfUrl('postgres:///x')).toThrow(/with a host/)
  })

  it('hides the password and secret-looking parameters', () => {
    expect(redactConnectionUrl('mongodb://u:p@a:1,b:2/db?authSource=admin&password=q')).toBe(
      'mongodb://u:****@a:1,b:2/db?authSource=admin&password=****',
    )
    expect(redactConnectionUrl('postgres://app@db/shop')).toBe('postgres://app@db/shop')
  })
})
