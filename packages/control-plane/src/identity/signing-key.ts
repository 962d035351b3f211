// The key access tokens are signed with (HS256): `DBSNAP_JWT_SECRET` when set (required with
// PostgreSQL, where replicas must share it), else a random key kept in a file beside the SQLite
// database — never in the database itself, whose backups would then be able to mint tokens.

import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { DatabaseLocation } from '../db/database.js'
import { ControlPlaneError } from '../errors.js'
import { readOrCreateKeyFile } from './key-file.js'

/** HS256 wants a key at least as long as its output (RFC 7518 §3.2). */
export const MIN_SECRET_LENGTH = 32
export const KEY_FILE_NAME = 'jwt-secret'

/**
 * The signing key for `secret` (the setting) and the database `location`. A first start on a
 * SQLite file creates `jwt-secret` (mode 0600) in the file's directory; later starts read it.
 */
export async function loadSigningKey(
  secret: string | undefined,
  location: DatabaseLocation,
): Promise<Uint8Array> {
  if (secret !== undefined) return new TextEncoder().encode(secret)
  if (location.dialect === 'postgres') {
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `DBSNAP_JWT_SECRET is required with PostgreSQL (every replica must sign with the same key): set it to ${MIN_SECRET_LENGTH} or more random characters, e.g. the output of "openssl rand -base64 48"`,
    )
  }
  if (location.path === ':memory:') return randomBytes(32)
  const file = join(dirname(location.path), KEY_FILE_NAME)
  const stored = await readOrCreateKeyFile(file, () => randomBytes(32).toString('base64url'))
  if (stored.length < MIN_SECRET_LENGTH) {
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `the signing key file ${file} holds fewer than ${MIN_SECRET_LENGTH} characters; delete it to make a new one (everyone signs in again)`,
    )
  }
  return new TextEncoder().encode(stored)
}
