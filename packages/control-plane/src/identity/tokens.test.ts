import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { hashRefreshToken, newRefreshToken, signAccessToken, verifyAccessToken } from './tokens.js'

describe('access tokens', () => {
  const key = randomBytes(32)
  const claims = { userId: 'u1', sessionId: 's1' }

  it('round-trip their claims while valid', async () => {
    const token = await signAccessToken(claims, { key, ttlSeconds: 60 })
    expect(await verifyAccessToken(token, key)).toEqual(claims)
  })

  it('are refused expired, under another key, or altered', async () => {
    const expired = await signAccessToken(claims, {
      key,
      ttlSeconds: 60,
      now: Math.floor(Date.now() / 1000) - 61,
    })
    expect(await verifyAccessToken(expired, key)).toBeUndefined()
    const token = await signAccessToken(claims, { key, ttlSeconds: 60 })
    expect(await verifyAccessToken(token, randomBytes(32))).toBeUndefined()
    expect(await verifyAccessToken(`${token.slice(0, -2)}AA`, key)).toBeUndefined()
    expect(await verifyAccessToken('not.a.jwt', key)).toBeUndefined()
  })

  it('are remembered once verified, under their key only, until they expire', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const token = await signAccessToken(claims, { key, ttlSeconds: 60 })
      expect(await verifyAccessToken(token, key)).toEqual(claims)
      expect(await verifyAccessToken(token, key)).toEqual(claims)
      expect(await verifyAccessToken(token, randomBytes(32))).toBeUndefined()
      vi.setSystemTime(Date.now() + 61_000)
      expect(await verifyAccessToken(token, key)).toBeUndefined()
      expect(await verifyAccessToken(token, key)).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('refresh tokens', () => {
  it('are 256 random bits, stored as SHA-256', () => {
    const token = newRefreshToken()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(newRefreshToken()).not.toBe(token)
    expect(hashRefreshToken(token)).toMatch(/^[0-9a-f]{64}$/)
  })
})
