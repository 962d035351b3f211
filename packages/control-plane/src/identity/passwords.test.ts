import { hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import {
  checkPasswordRules,
  hashPassword,
  needsRehash,
  rehashPassword,
  verifyPassword,
  verifyPasswordOrDummy,
} from './passwords.js'

describe('password rules', () => {
  const ruleOf = (password: string, email?: string): string | undefined => {
    try {
      checkPasswordRules(password, email === undefined ? {} : { email })
      return undefined
    } catch (err) {
      expect(err).toMatchObject({ code: 'PASSWORD_INVALID' })
      return (err as { details: { rule: string } }).details.rule
    }
  }

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
      expect.objectContaining({ message: 'a password has 8 to 128 characters, got 7' }) as Error,
    )
    expect(ruleOf('hunter2')).toBe('length')
  })

  it.each([
    ['on the list', 'password', 'common'],
    ['on the list, in any case', 'PassWord', 'common'],
    ['on the list, further down', 'trustno1', 'common'],
    ['on the list with digits and symbols around it', 'Password123!', 'common'],
    ['digits only, on the list', '12345678', 'common'],
    ['a keyboard walk on the list', 'qwertyuiop', 'common'],
    ['a passphrase', 'correct horse battery staple', undefined],
    ['a common word inside a longer password', 'password-manager-generated', undefined],
  ])('refuses a breached or common password: %s (%s)', (_name, password, rule) => {
    expect(ruleOf(password)).toBe(rule)
  })

  it.each([
    ["the service's name and digits", 'dbsnap2026', undefined, 'context'],
    ["the service's name, twice", 'DBSnapDBSnap', undefined, 'context'],
    ["the service's name in a long password", 'dbsnap keeps my tables safe', undefined, undefined],
    ["the email's local part and digits", 'adalovelace1815', 'adalovelace@example.com', 'context'],
    ["words of the email's local part", 'Lovelace.Ada.99', 'ada.lovelace@example.com', 'context'],
    ['the local part with another 8 characters', 'ada:analytical', 'ada@example.com', undefined],
    ['a local part of 2 characters is no context word', 'alalalalal', 'al@example.com', undefined],
  ])('refuses a password made of context words: %s', (_name, password, email, rule) => {
    expect(ruleOf(password, email)).toBe(rule)
  })

  it('checks the list in constant time per password once it is loaded', () => {
    checkPasswordRules('warm-up-the-list')
    const started = performance.now()
    for (let i = 0; i < 1000; i++) checkPasswordRules(`a fine password ${i}`)
    expect(performance.now() - started).toBeLessThan(1000)
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
    await expect(hashPassword('ada12345', { email: 'ada12345@example.com' })).rejects.toMatchObject(
      { code: 'PASSWORD_INVALID', message: expect.stringMatching(/email/) as unknown },
    )
  })

  it('rehashes a password in use without the rules, which may have grown since', async () => {
    const rehashed = await rehashPassword('password')
    expect(await verifyPassword(rehashed, 'password')).toBe(true)
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
    await verifyPasswordOrDummy(null, 'warm-up-the-dummy')
    const time = async (run: () => Promise<boolean>): Promise<number> => {
      const started = performance.now()
      expect(await run()).toBe(false)
      return performance.now() - started
    }
    // Interleaved, so both see the same machine; the fastest run of each is the least disturbed
    // by other work. Same argon2 cost both ways; the bound is loose for a busy machine.
    const unknown: number[] = []
    const wrong: number[] = []
    for (let i = 0; i < 5; i++) {
      unknown.push(await time(() => verifyPasswordOrDummy(null, 'a-guess-1234')))
      wrong.push(await time(() => verifyPasswordOrDummy(real, 'a-guess-1234')))
    }
    const ratio = Math.min(...unknown) / Math.min(...wrong)
    expect(ratio).toBeGreaterThan(0.4)
    expect(ratio).toBeLessThan(2.5)
  })
})
