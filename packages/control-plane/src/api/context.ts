// What route modules and middleware are built with: the database, the auth settings, the rate
// limiter. `createApp` makes one from its deps.

import type { Logger } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import type { ExportSettings } from '../data/exports.js'
import type { JobQueue } from '../data/jobs.js'
import type { Database } from '../db/schema.js'
import type { ApiKeyUsageRecorder } from '../middleware/api-key-usage.js'
import type { RateLimiter } from '../middleware/rate-limit.js'
import type { SecretBox } from '../secrets/secret-box.js'

export interface AuthSettings {
  /** HMAC key of the access tokens, at least 32 bytes (identity/signing-key.ts). */
  signingKey: Uint8Array
  /** Access token lifetime; default 15 minutes. */
  accessTtlSeconds: number
  /** Absolute session lifetime, however often it is refreshed; default 30 days. */
  sessionTtlSeconds: number
  /** The web view's origin for the CSRF check; unset, the request's own host. */
  publicOrigin: string | undefined
  /** Take the client IP from X-Forwarded-For (behind a reverse proxy only). */
  trustProxy: boolean
  /** Anyone may sign up (`DBSNAP_CP_OPEN_REGISTRATION`); default false. */
  openRegistration: boolean
}

export interface ApiContext {
  db: Kysely<Database>
  auth: AuthSettings
  limiter: RateLimiter
  /** API key usage, counted in memory and written every few seconds. */
  apiKeyUsage: ApiKeyUsageRecorder
  /** Seals and opens connection credentials (secrets/secret-keys.ts). */
  secrets: SecretBox
  /** The job queue (data/jobs.ts) over the same database. */
  queue: JobQueue
  /** Where exports streamed by agents wait for their one download (data/exports.ts). */
  exports: ExportSettings
  logger: Logger
}
