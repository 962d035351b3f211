// Where the secret key comes from: `DBSNAP_SECRET_KEY` (base64 of 32 bytes), else the file
// `DBSNAP_SECRET_KEY_FILE` names (a mounted secret), else — with SQLite only — a key file the
// first start makes beside the database, as the token signing key is. PostgreSQL replicas must
// share one key, so there it has to be given. `DBSNAP_SECRET_KEY_PREVIOUS` keeps ciphertexts of
// the key before a rotation readable until `rotate-secret-key` has re-sealed them.

import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { DatabaseLocation } from '../db/database.js'
import { ControlPlaneError } from '../errors.js'
import { readOrCreateKeyFile } from '../identity/key-file.js'
import { SECRET_KEY_LENGTH, SecretBox, secretKey, type SecretKey } from './secret-box.js'

export const SECRET_KEY_FILE_NAME = 'secret-key'

export interface SecretKeySettings {
  /** `DBSNAP_SECRET_KEY`: base64 of 32 bytes. */
  readonly key?: string | undefined
  /** `DBSNAP_SECRET_KEY_FILE`: a file holding the same; read, never created. */
  readonly keyFile?: string | undefined
  /** `DBSNAP_SECRET_KEY_PREVIOUS`: the key before a rotation, base64. */
  readonly previous?: string | undefined
}

/** The secret box for `settings` and the database `location`. */
export async function loadSecretBox(
  settings: SecretKeySettings,
  location: DatabaseLocation,
): Promise<SecretBox> {
  const current = await loadCurrentKey(settings, location)
  const previous =
    settings.previous === undefined
      ? []
      : [decodeSecretKey(settings.previous, 'DBSNAP_SECRET_KEY_PREVIOUS')]
  return new SecretBox(current, previous)
}

/** The key `text` (base64 of 32 bytes) holds; `source` names it in the error. */
export function decodeSecretKey(text: string, source: string): SecretKey {
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `${source} is not base64; make a key with "openssl rand -base64 ${SECRET_KEY_LENGTH}"`,
    )
  }
  // Node decodes both alphabets with 'base64'; the length check is in secretKey.
  try {
    return secretKey(Buffer.from(trimmed, 'base64'))
  } catch (err) {
    throw new ControlPlaneError('CONFIG_INVALID', `${source}: ${(err as Error).message}`)
  }
}

async function loadCurrentKey(
  settings: SecretKeySettings,
  location: DatabaseLocation,
): Promise<SecretKey> {
  if (settings.key !== undefined) return decodeSecretKey(settings.key, 'DBSNAP_SECRET_KEY')
  if (settings.keyFile !== undefined) {
    // Never created: a mistyped path would otherwise make a new key and orphan every credential.
    const text = await readFile(settings.keyFile, 'utf8').catch((err: unknown) => {
      throw new ControlPlaneError(
        'CONFIG_INVALID',
        `DBSNAP_SECRET_KEY_FILE ${settings.keyFile} cannot be read`,
        { cause: err },
      )
    })
    return decodeSecretKey(text, `the key file ${settings.keyFile}`)
  }
  if (location.dialect === 'postgres') {
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `DBSNAP_SECRET_KEY or DBSNAP_SECRET_KEY_FILE is required with PostgreSQL (every replica must decrypt with the same key): make one with "openssl rand -base64 ${SECRET_KEY_LENGTH}"`,
    )
  }
  if (location.path === ':memory:') return secretKey(randomBytes(SECRET_KEY_LENGTH))
  const file = join(dirname(location.path), SECRET_KEY_FILE_NAME)
  const text = await readOrCreateKeyFile(file, () =>
    randomBytes(SECRET_KEY_LENGTH).toString('base64'),
  )
  return decodeSecretKey(text, `the key file ${file}`)
}
