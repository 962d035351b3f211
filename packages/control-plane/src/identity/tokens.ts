// The tokens of a session: a short-lived access token (a JWT signed HS256 with jose, naming the
// session) and an opaque refresh token (256 random bits) of which only the SHA-256 is stored.

import { createHash, randomBytes } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'

const ISSUER = 'dbsnap-control-plane'
const AUDIENCE = 'dbsnap-api'

/** What an access token says: whose it is and which session it belongs to. */
export interface AccessClaims {
  userId: string
  sessionId: string
}

export interface AccessTokenOptions {
  /** HMAC key, at least 32 bytes. */
  key: Uint8Array
  /** Lifetime in seconds. */
  ttlSeconds: number
  /** Unix seconds now (tests pass a time in the past to make an expired token). */
  now?: number
}

export async function signAccessToken(
  claims: AccessClaims,
  { key, ttlSeconds, now = Math.floor(Date.now() / 1000) }: AccessTokenOptions,
): Promise<string> {
  return new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(key)
}

/** Verified tokens remembered, per key; the oldest is forgotten past this many. */
const VERIFIED_CACHE_SIZE = 10_000

interface Verified {
  claims: AccessClaims
  /** Unix milliseconds when the token expires. */
  expiresAt: number
}

const verifiedByKey = new WeakMap<Uint8Array, Map<string, Verified>>()

/**
 * The claims of a valid access token, or undefined for one that is expired, tampered with,
 * signed with another key or algorithm, or not ours. Whether its session is still active is
 * the caller's check: a token stays valid after its session is revoked.
 *
 * A token verified once is remembered until it expires: a client sends the same one for its
 * 15 minutes, and the HMAC through WebCrypto was a tenth of a request's CPU. Only tokens whose
 * signature checked are kept, by their whole text, so a changed token is verified afresh.
 */
export async function verifyAccessToken(
  token: string,
  key: Uint8Array,
): Promise<AccessClaims | undefined> {
  let verified = verifiedByKey.get(key)
  if (verified === undefined) {
    verified = new Map()
    verifiedByKey.set(key, verified)
  }
  const known = verified.get(token)
  if (known !== undefined) {
    if (Date.now() < known.expiresAt) return known.claims
    verified.delete(token)
    return undefined
  }
  const checked = await verifySignature(token, key)
  if (checked === undefined) return undefined
  if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
  verified.set(token, checked)
  return checked.claims
}

async function verifySignature(token: string, key: Uint8Array): Promise<Verified | undefined> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['sub', 'sid', 'exp'],
    })
    const sid = payload['sid']
    if (typeof sid !== 'string' || payload.sub === undefined) return undefined
    return { claims: { userId: payload.sub, sessionId: sid }, expiresAt: payload.exp! * 1000 }
  } catch (err) {
    if (err instanceof errors.JOSEError) return undefined
    throw err
  }
}

/** A new refresh token: 43 characters of base64url, 256 bits of randomness. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url')
}

/** How a refresh token is stored and looked up: SHA-256, hex (a long random secret needs no salt). */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
