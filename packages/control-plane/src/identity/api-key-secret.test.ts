import { describe, expect, it } from 'vitest'
import { apiKeyMatches, apiKeyPrefix, looksLikeApiKey, newApiKeySecret } from './api-key-secret.js'

describe('API key secrets', () => {
  it('have the dbs_ shape secret scanners look for, and a prefix that finds them', () => {
    const { key, prefix, hash } = newApiKeySecret()
    expect(key).toMatch(/^dbs_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    expect(apiKeyPrefix(key)).toBe(prefix)
    expect(looksLikeApiKey(key)).toBe(true)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).not.toContain(key.slice(prefix.length + 1))
  })

  it('match their stored hash only, and malformed ones have no prefix', () => {
    const a = newApiKeySecret()
    const b = newApiKeySecret()
    expect(apiKeyMatches(a.key, a.hash)).toBe(true)
    expect(apiKeyMatches(b.key, a.hash)).toBe(false)
    expect(apiKeyMatches(a.key, 'not hex')).toBe(false)
    expect(apiKeyPrefix(`${a.key}x`)).toBeUndefined()
    expect(apiKeyPrefix('dbs_short')).toBeUndefined()
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(false)
  })
})
