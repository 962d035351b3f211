import { hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import {
  checkPasswordRules,
  hashPassword,
  needsRehash,
  verifyPassword,
  verifyPasswordOrDummy,
} from './passwords.js'

describe('password rules', () => {
  it.each([
    ['7 characters', 'a'.repeat(7), false],
    ['8 characters', 'a'.repeat(8), true],
    ['64 characters', 'x'.repeat(64), true],
    ['128 characters', 'x'.repeat(128), true],
    ['129 characters', 'x'.repeat(129), false],
    ['only lower-case letters (no composition rules)', 'correcthorsebatterystaple', true],
    ['spaces and emoji, 8 code points', 'ab cd 🦆🦆', true],
    ['7 code points in 14 UTF-16 units', '🦆'.repeat(7), false],
  ])('%s: %s', (_name, password, valid) => {
    if (valid) expect(() => checkPasswordRules(password)).not.toThrow()
    else
      expect(() => checkPasswordRules(password)).toThrowError(
        expect.objectContaining({ code: 'PASSWORD_INVALID' }) as Error,
      )
  })

  it('says which limit a password breaks, without the password', () => {
    expect(() => checkPasswordRules('hunter2')).toThrowError(
      expect.objectContaining({
        message: 'a password has 8 to 128 characters, got 7',
        details: { min: 8, max: 128, length: 7 },
      }) as Error,
    )
  })
})

describe('password hashing', () => {
  it('is argon2id at the OWASP cost, salted, and verifies', async () => {
    const password = 'correct horse battery staple'
    const [a, b] = await Promise.all([hashPassword(password), hashPassword(password)])
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword(a, password)).toBe(true)
    expect(await verifyPassword(a, 'correct horse battery stapl')).toBe(false)
    expect(needsRehash(a)).toBe(false)
  })

  it('refuses to hash a password that breaks the rules', async () => {
    await expect(hashPassword('short')).rejects.toMatchObject({ code: 'PASSWORD_INVALID' })
  })

  it('treats canonically equivalent spellings as one password', async () => {
    const composed = 'café au lait'.normalize('NFC')
    const decomposed = composed.normalize('NFD')
    expect(decomposed).not.toBe(composed)
    expect(await verifyPassword(await hashPassword(composed), decomposed)).toBe(true)
  })

  it('asks for a rehash of a hash made with other settings', async () => {
    const weak = await hash('correct horse battery staple', { memoryCost: 4096, timeCost: 1 })
    expect(needsRehash(weak)).toBe(true)
    expect(await verifyPassword(weak, 'correct horse battery staple')).toBe(true)
  })

  it('spends as long on an unknown account as on a wrong password, and says no', async () => {
    const real = await hashPassword('the-right-password')
    const median = async (run: () => Promise<boolean>): Promise<number> => {
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        expect(await run()).toBe(false)
        times.push(performance.now() - started)
      }
      return times.sort((a, b) => a - b)[1]!
    }
    await verifyPasswordOrDummy(null, 'warm-up-the-dummy')
    const unknown = await median(() => verifyPasswordOrDummy(null, 'a-guess-1234'))
    const wrong = await median(() => verifyPasswordOrDummy(real, 'a-guess-1234'))
    // Same argon2 cost both ways; the bound is loose for a busy machine.
    expect(unknown / wrong).toBeGreaterThan(0.5)
    expect(unknown / wrong).toBeLessThan(2)
  })
})
