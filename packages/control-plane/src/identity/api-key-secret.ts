// The API key format: `dbs_<12 characters>_<43 characters>`. The first part (with `dbs_`) is the
// stored prefix that finds the key; the whole key is stored only as SHA-256. The fixed `dbs_`
// start and shape let secret scanners recognise a leaked key:
// /\bdbs_[a-z0-9]{12}_[A-Za-z0-9_-]{43}\b/.

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const KEY_SHAPE = /^(dbs_[a-z0-9]{12})_[A-Za-z0-9_-]{43}$/

export interface NewKeySecret {
  /** The whole key, shown to its creator once. */
  key: string
  prefix: string
  hash: string
}

export function newApiKeySecret(): NewKeySecret {
  let id = ''
  for (let i = 0; i < 12; i++) id += PREFIX_ALPHABET[randomInt(PREFIX_ALPHABET.length)]
  const prefix = `dbs_${id}`
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`
  return { key, prefix, hash: hashApiKey(key) }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** True when `token` is shaped like an API key (rather than an access token). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('dbs_')
}

/** The prefix of a well-formed key, else undefined. */
export function apiKeyPrefix(key: string): string | undefined {
  return KEY_SHAPE.exec(key)?.[1]
}

/** Compares a presented key with a stored hash in constant time. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}
