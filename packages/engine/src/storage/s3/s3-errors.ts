// How S3 and S3-compatible servers (MinIO) name their failures: the error names and network
// codes S3Storage maps to `STORAGE_*` codes, grouped by what they mean for the caller.

/** Credentials or policy refuse the request. */
export const PERMISSION_CODES = new Set([
  'AccessDenied',
  'AccountProblem',
  'AllAccessDisabled',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
])

/** The storage or the bucket's quota is full. */
export const FULL_CODES = new Set([
  'EntityTooLarge',
  'QuotaExceeded',
  'XMinioStorageFull',
  'XMinioAdminBucketQuotaExceeded',
])

/** The bytes did not arrive as sent. */
export const CHECKSUM_CODES = new Set([
  'BadDigest',
  'InvalidDigest',
  'XAmzContentChecksumMismatch',
  'XAmzContentSHA256Mismatch',
])

/** The server asks to slow down: retryable. */
export const THROTTLING_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
])

/** No answer in time: retryable. */
export const TIMEOUT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])

/** Network failures below HTTP, with how messages say them. */
export const NETWORK_CODES = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'connection reset'],
  ['EPIPE', 'connection closed'],
  ['ETIMEDOUT', 'connection timed out'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host lookup failed'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ECONNABORTED', 'connection aborted'],
])

/** The SDK's name of an error (`NoSuchKey`, `AccessDenied`, `TimeoutError`). */
export function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

/** The HTTP status of the response an SDK error came from. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
    ?.httpStatusCode
  return typeof status === 'number' ? status : undefined
}
