// Secrets at rest (connection credentials): AES-256-GCM under the instance's secret key. Each
// ciphertext is stored with the id of the key that sealed it, so the key can be rotated (old
// ciphertexts stay readable while the previous key is configured), and is bound by the
// additional authenticated data to its row: a ciphertext copied into another row does not open.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { ControlPlaneError } from '../errors.js'

export const SECRET_KEY_LENGTH = 32
/** GCM's recommended nonce length; random nonces are safe far beyond this table's row count. */
const IV_LENGTH = 12
const TAG_LENGTH = 16
/** The first field of every ciphertext, so a later format can be told apart. */
const FORMAT = 'v1'

export interface SecretKey {
  /** Names the key without revealing it; stored beside every ciphertext it seals. */
  readonly id: string
  readonly bytes: Buffer
}

/** The key of `bytes` (32 of them), its id derived from it so no setting has to carry one. */
export function secretKey(bytes: Buffer): SecretKey {
  if (bytes.length !== SECRET_KEY_LENGTH) {
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `a secret key is ${SECRET_KEY_LENGTH} bytes (base64), got ${bytes.length}; make one with "openssl rand -base64 32"`,
    )
  }
  const id = createHash('sha256')
    .update('dbsnap secret key id\0')
    .update(bytes)
    .digest('base64url')
    .slice(0, 16)
  return { id, bytes }
}

/** A sealed secret as stored: `v1.<iv>.<ciphertext>.<tag>` (base64url) and the key's id. */
export interface Sealed {
  readonly ciphertext: string
  readonly keyId: string
}

/**
 * Seals under the current key and opens under the current or a previous one.
 *
 * @example
 * const box = new SecretBox(secretKey(randomBytes(32)))
 * const sealed = box.seal('postgres://u:pw@db/app', `connection:${id}`)
 * box.open(sealed, `connection:${id}`) // 'postgres://u:pw@db/app'
 */
export class SecretBox {
  readonly current: SecretKey
  private readonly keys: ReadonlyMap<string, SecretKey>

  constructor(current: SecretKey, previous: readonly SecretKey[] = []) {
    this.current = current
    this.keys = new Map([...previous, current].map((key) => [key.id, key]))
  }

  /** Encrypts `plaintext`; `context` (the row's identity) must be given again to open it. */
  seal(plaintext: string, context: string): Sealed {
    const iv = randomBytes(IV_LENGTH)
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv, {
      authTagLength: TAG_LENGTH,
    })
    cipher.setAAD(aad(context, this.current.id))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const fields = [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url'))
    return { ciphertext: [FORMAT, ...fields].join('.'), keyId: this.current.id }
  }

  /** The plaintext of `sealed`, or SECRET_UNREADABLE (unknown key, altered, or another row's). */
  open(sealed: Sealed, context: string): string {
    const key = this.keys.get(sealed.keyId)
    if (key === undefined) {
      throw unreadable(
        `it was sealed with key ${sealed.keyId}, which is not configured (set DBSNAP_SECRET_KEY_PREVIOUS to it?)`,
        sealed.keyId,
      )
    }
    const [format, iv, body, tag, ...rest] = sealed.ciphertext.split('.')
    if (
      format !== FORMAT ||
      iv === undefined ||
      body === undefined ||
      tag === undefined ||
      rest.length > 0
    ) {
      throw unreadable('it is not in a known format', sealed.keyId)
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_LENGTH,
      })
      decipher.setAAD(aad(context, key.id))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ])
      return plaintext.toString('utf8')
    } catch (err) {
      throw unreadable('it was altered or belongs to another row', sealed.keyId, err)
    }
  }

  /** True when `sealed` is under a key other than the current one (rotation has work to do). */
  isStale(sealed: Sealed): boolean {
    return sealed.keyId !== this.current.id
  }
}

/** The row's identity and the key id, both authenticated: neither can be swapped unnoticed. */
function aad(context: string, keyId: string): Buffer {
  return Buffer.from(`dbsnap/${FORMAT}\0${keyId}\0${context}`, 'utf8')
}

function unreadable(reason: string, keyId: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(
    'SECRET_UNREADABLE',
    `a stored secret cannot be decrypted: ${reason}`,
    {
      cause,
      details: { keyId },
    },
  )
}
