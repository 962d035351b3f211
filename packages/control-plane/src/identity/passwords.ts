// Password rules and hashing: OWASP ASVS 5.0 V6.2 rules (length only, no composition rules)
// and argon2id at OWASP's recommended cost, with rehashing when that cost changes.

import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2'
import { ControlPlaneError } from '../errors.js'

/** ASVS 6.2.1: at least 8 characters (15 recommended; the UI says so). */
export const MIN_PASSWORD_LENGTH = 8
/** ASVS 6.2.9: at least 64 must be allowed; beyond 128 nobody types it, and hashing is work. */
export const MAX_PASSWORD_LENGTH = 128

/** `Algorithm.Argon2id`: a const enum, which `isolatedModules` cannot read from a declaration file. */
const ARGON2ID = 2 as Algorithm

/**
 * OWASP Password Storage Cheat Sheet's first argon2id setting: 19 MiB, 2 passes, 1 lane
 * (8 ms of one core on the development machine). Hashes made with other settings are redone at
 * the next login.
 */
const HASH_OPTIONS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const satisfies Options

/**
 * The form a password is compared in: Unicode NFKC (NIST SP 800-63B §5.1.1.2), so the same
 * password typed on two keyboards that compose characters differently is the same password.
 */
function normalize(password: string): string {
  return password.normalize('NFKC')
}

/**
 * Checks a new password against the rules: 8 to 128 characters (Unicode code points, after
 * normalisation), any characters including spaces and emoji, no rules about character classes
 * (ASVS 6.2.5). Throws `PASSWORD_INVALID` saying which limit it breaks.
 */
export function checkPasswordRules(password: string): void {
  const length = [...normalize(password)].length
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new ControlPlaneError(
      'PASSWORD_INVALID',
      `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${length}`,
      { details: { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH, length } },
    )
  }
}

/** Checks the rules and hashes a new password (argon2id PHC string, salt included). */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordRules(password)
  return hash(normalize(password), HASH_OPTIONS)
}

/** True when `password` matches `passwordHash` (compared in constant time by argon2). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, normalize(password))
}

let dummyHash: Promise<string> | undefined

/**
 * Verifies against the account's hash, or, for an account that does not exist or has no
 * password (`passwordHash` null), against a throwaway hash of the same cost and returns false:
 * a login for an unknown email takes as long as one with a wrong password, so response times
 * do not tell which emails have accounts.
 */
export async function verifyPasswordOrDummy(
  passwordHash: string | null,
  password: string,
): Promise<boolean> {
  if (passwordHash !== null) return verifyPassword(passwordHash, password)
  dummyHash ??= hash('dbsnap-no-such-account', HASH_OPTIONS)
  await verifyPassword(await dummyHash, password)
  return false
}

/** True when `passwordHash` was made with other settings than today's: rehash it after a login. */
export function needsRehash(passwordHash: string): boolean {
  const options = parseOptions(passwordHash)
  return (
    options.algorithm !== HASH_OPTIONS.algorithm ||
    options.memoryCost !== HASH_OPTIONS.memoryCost ||
    options.timeCost !== HASH_OPTIONS.timeCost ||
    options.parallelism !== HASH_OPTIONS.parallelism
  )
}
