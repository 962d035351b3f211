// Password rules and hashing: OWASP ASVS 5.0 V6.2 rules (length, not a common or breached
// password, not the service's or the user's name; no composition rules) and argon2id at OWASP's recommended cost, with rehashing when that cost changes.

import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2'
import { dictionary } from '@zxcvbn-ts/language-common'
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

/** Context words a password may not consist of (ASVS 6.2.11): the service's name. */
const SERVICE_WORDS = ['dbsnap']

/** Words of an email's local part shorter than this are not context words (`al@…`). */
const MIN_CONTEXT_WORD = 3

let commonPasswords: ReadonlySet<string> | undefined

/**
 * The breached and common passwords zxcvbn-ts ranks (about 49,000, lower-case, from public
 * breach corpora), bundled in the package: nothing is fetched at run time. Built on first use.
 */
function isCommonPassword(lowered: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'])
  return commonPasswords.has(lowered)
}

/** What the person choosing the password is known by, for the context-word rule. */
export interface PasswordContext {
  email?: string
}

function contextWords(context: PasswordContext): string[] {
  const words = [...SERVICE_WORDS]
  const local = context.email?.split('@')[0]?.normalize('NFKC').toLowerCase()
  if (local !== undefined) {
    words.push(local, ...local.split(/[^\p{L}\p{N}]+/u))
  }
  return [...new Set(words.filter((word) => [...word].length >= MIN_CONTEXT_WORD))].sort(
    (a, b) => b.length - a.length,
  )
}

function passwordInvalid(rule: string, message: string, details: object = {}): ControlPlaneError {
  return new ControlPlaneError('PASSWORD_INVALID', message, {
    details: { rule, ...details, fields: [{ path: 'password', message }] },
  })
}

/**
 * Checks a new password against the rules (OWASP ASVS 5.0 V6.2), each breach a
 * `PASSWORD_INVALID` whose `details.rule` names the rule and whose message says what to change:
 * - `length`: 8 to 128 characters (Unicode code points, after normalisation), any characters
 *   including spaces and emoji, no rules about character classes (6.2.1, 6.2.5, 6.2.9);
 * - `common`: not one of the breached and common passwords, even with digits or symbols
 *   added before or after it (`Password1!`) (6.2.4);
 * - `context`: not mostly the service's name or the email's local part: what is left once they
 *   are taken out must still have 8 characters (`dbsnap2026`, `ada.lovelace1`) (6.2.11).
 */
export function checkPasswordRules(password: string, context: PasswordContext = {}): void {
  const normalized = normalize(password)
  const length = [...normalized].length
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw passwordInvalid(
      'length',
      `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${length}`,
      { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH, length },
    )
  }
  const lowered = normalized.toLowerCase()
  const core = lowered.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '')
  if (isCommonPassword(lowered) || isCommonPassword(core)) {
    throw passwordInvalid(
      'common',
      'this password is one of the most common ones, which attackers try first: choose another',
    )
  }
  let rest = lowered
  for (const word of contextWords(context)) rest = rest.split(word).join('')
  if ([...rest].length < MIN_PASSWORD_LENGTH) {
    throw passwordInvalid(
      'context',
      'a password may not be mostly the name of the service or of your email address: add other words',
    )
  }
}

/** Checks the rules and hashes a new password (argon2id PHC string, salt included). */
export async function hashPassword(
  password: string,
  context: PasswordContext = {},
): Promise<string> {
  checkPasswordRules(password, context)
  return rehashPassword(password)
}

/**
 * Hashes a password already in use with today's settings, without the rules (they may have
 * grown since it was chosen: the next change of password applies them).
 */
export async function rehashPassword(password: string): Promise<string> {
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
