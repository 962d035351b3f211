import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SecretBox, secretKey } from './secret-box.js'

const newKey = () => secretKey(randomBytes(32))
const URL_WITH_PASSWORD = 'postgres://app:s3cret@db.internal:5432/app'

describe('SecretBox', () => {
  it('opens what it sealed, and never stores the plaintext', () => {
    const box = new SecretBox(newKey())
    const sealed = box.seal(URL_WITH_PASSWORD, 'connection:c1')
    expect(sealed.keyId).toBe(box.current.id)
    expect(sealed.ciphertext).not.toContain('s3cret')
    expect(box.open(sealed, 'connection:c1')).toBe(URL_WITH_PASSWORD)
    // A fresh nonce each time: the same secret never gives the same ciphertext.
    expect(box.seal(URL_WITH_PASSWORD, 'connection:c1').ciphertext).not.toBe(sealed.ciphertext)
  })

  it('refuses an altered ciphertext', () => {
    const box = new SecretBox(newKey())
    const sealed = box.seal(URL_WITH_PASSWORD, 'connection:c1')
    const [format, iv, body, tag] = sealed.ciphertext.split('.') as [string, string, string, string]
    const flipped = Buffer.from(body, 'base64url')
    flipped[0] = flipped[0]! ^ 1
    const altered = [format, iv, flipped.toString('base64url'), tag].join('.')
    expect(() => box.open({ ...sealed, ciphertext: altered }, 'connection:c1')).toThrow(
      expect.objectContaining({ code: 'SECRET_UNREADABLE' }),
    )
    expect(() => box.open({ ...sealed, ciphertext: 'v1.x' }, 'connection:c1')).toThrow(
      expect.objectContaining({ code: 'SECRET_UNREADABLE' }),
    )
  })

  it('refuses a ciphertext of a key it does not have, and of a key claiming another id', () => {
    const sealed = new SecretBox(newKey()).seal(URL_WITH_PASSWORD, 'connection:c1')
    const other = new SecretBox(newKey())
    expect(() => other.open(sealed, 'connection:c1')).toThrow(/not configured/)
    expect(() => other.open({ ...sealed, keyId: other.current.id }, 'connection:c1')).toThrow(
      expect.objectContaining({ code: 'SECRET_UNREADABLE' }),
    )
  })

  it('refuses a ciphertext moved to another row', () => {
    const box = new SecretBox(newKey())
    const sealed = box.seal(URL_WITH_PASSWORD, 'connection:c1')
    expect(() => box.open(sealed, 'connection:c2')).toThrow(/another row/)
  })

  it('opens under a previous key after rotation, and seals under the new one', () => {
    const old = newKey()
    const sealed = new SecretBox(old).seal(URL_WITH_PASSWORD, 'connection:c1')
    const rotated = new SecretBox(newKey(), [old])
    expect(rotated.isStale(sealed)).toBe(true)
    expect(rotated.open(sealed, 'connection:c1')).toBe(URL_WITH_PASSWORD)
    const resealed = rotated.seal(URL_WITH_PASSWORD, 'connection:c1')
    expect(rotated.isStale(resealed)).toBe(false)
  })

  it('wants a 32-byte key, and derives a stable id from it', () => {
    expect(() => secretKey(randomBytes(16))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
    const bytes = randomBytes(32)
    expect(secretKey(bytes).id).toBe(secretKey(Buffer.from(bytes)).id)
  })
})
