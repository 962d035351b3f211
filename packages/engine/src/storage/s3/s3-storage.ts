// A Storage under an S3 prefix (AWS S3, MinIO, any S3-compatible server): single PUTs for small
// objects, bounded multipart uploads for large ones, SHA-256 checksums, retries with backoff.

import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import {
  DbsnapError,
  abortError,
  findErrorCode,
  isDbsnapError,
  throwIfAborted,
  type ErrorCode,
} from '../../errors.js'
import {
  CHECKSUM_CODES,
  errorName,
  FULL_CODES,
  NETWORK_CODES,
  PERMISSION_CODES,
  statusOf,
  THROTTLING_CODES,
  TIMEOUT_CODES,
} from './s3-errors.js'
import {
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  isValidKey,
  MAX_SEGMENT_LENGTH,
} from '../keys.js'
import {
  checkedBytes,
  isSourceError,
  type ByteSource,
  type GetOptions,
  type ObjectInfo,
  type PutOptions,
  type Storage,
  type StorageCallOptions,
} from '../storage.js'

const MiB = 1024 * 1024

/** S3 refuses multipart parts below 5 MiB (but the last). */
const MIN_PART_SIZE = 5 * MiB

export interface S3StorageOptions {
  /**
   * S3 endpoint URL, e.g. `http://127.0.0.1:9000` for MinIO. Default: `AWS_ENDPOINT_URL_S3`,
   * then `AWS_ENDPOINT_URL`, then the SDK's own resolution (shared config file, AWS S3).
   */
  endpoint?: string
  /** Default: the SDK's (`AWS_REGION`, the shared config file). */
  region?: string
  /** Default: the SDK's standard credential chain (env, shared files, SSO, instance roles…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Path-style URLs (`endpoint/bucket/key`). Default: true when a custom endpoint is set. */
  forcePathStyle?: boolean
  /** Attempts per operation, the first included, before a transient failure surfaces. Default 4. */
  maxAttempts?: number
  /**
   * How long a request may make no progress (connecting, sending, waiting for or reading the
   * answer) before it fails as `STORAGE_UNAVAILABLE`. Default 30 000.
   */
  requestTimeoutMs?: number
  /** Objects up to this size are one PUT; larger ones multipart in parts of it. Default 8 MiB. */
  partSize?: number
  /** Parts in flight per multipart upload; memory is about `partSize × (queueSize + 1)`. Default 4. */
  queueSize?: number
}

/** Bucket and key prefix of an `s3://bucket/prefix` URL; `prefix` has no leading or trailing `/`. */
export interface S3Location {
  bucket: string
  prefix: string
}

/**
 * Splits `s3://bucket/some/prefix` into bucket and prefix (`''` when none); a trailing `/` is
 * allowed. Rejects with `INVALID_ARGUMENT` anything else: other schemes, credentials, query
 * strings, invalid bucket names, and prefix segments that are not valid key segments.
 *
 * @example
 * parseS3Url('s3://backups/dbsnap/prod') // { bucket: 'backups', prefix: 'dbsnap/prod' }
 */
export function parseS3Url(url: string): S3Location {
  const invalid = (problem: string): DbsnapError =>
    new DbsnapError(
      'INVALID_ARGUMENT',
      `expected an S3 location like s3://bucket/prefix, got "${redactUrl(url)}": ${problem}`,
    )
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url)
  if (match === null) throw invalid('it does not start with s3://')
  const bucket = match[1] ?? ''
  const path = match[2] ?? ''
  if (bucket.includes('@'))
    throw invalid('credentials do not belong in the URL; use the AWS settings')
  if (/[?#]/.test(url)) throw invalid('query strings and fragments are not supported')
  if (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ||
    bucket.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(bucket)
  ) {
    throw invalid(
      'the bucket name must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    )
  }
  const prefix = path.endsWith('/') ? path.slice(0, -1) : path
  if (prefix !== '') {
    for (const segment of prefix.split('/')) {
      if (
        !/^[A-Za-z0-9._-]+$/.test(segment) ||
        segment === '.' ||
        segment === '..' ||
        segment.length > MAX_SEGMENT_LENGTH
      ) {
        throw invalid(
          'the prefix must be "/"-separated segments of [A-Za-z0-9._-], none empty, "." or ".."',
        )
      }
    }
  }
  return { bucket, prefix }
}

/**
 * Objects under `s3://bucket/prefix`: key `chunks/ab/abcd` is the S3 object
 * `prefix/chunks/ab/abcd`.
 *
 * - `put` of up to `partSize` bytes reads the source into one buffer and sends one PUT with its
 *   SHA-256 (`options.sha256`, or computed by the SDK) for the server to check; larger objects go
 *   through a multipart upload of `partSize` parts, `queueSize` in flight, each with its SHA-256
 *   (the object gets a composite checksum). Either way the object appears whole or not at all,
 *   and memory stays about `partSize × (queueSize + 1)` per put.
 * - Every request has a `requestTimeoutMs` inactivity limit. Transient failures (network errors,
 *   timeouts, 5xx, 429/SlowDown, checksum mismatches in transit) are retried up to `maxAttempts`
 *   times per operation with exponential backoff and full jitter; a put re-opens its source
 *   for each attempt (a failed multipart upload is aborted and started over). The SDK's own
 *   retries are off so that there is one retry loop with one attempt count.
 * - Errors: NoSuchBucket gives `STORAGE_LOCATION_NOT_FOUND`; NoSuchKey/404
 *   `STORAGE_NOT_FOUND`; 403 (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch…)
 *   `STORAGE_PERMISSION_DENIED`; EntityTooLarge, quota and MinIO's storage-full `STORAGE_FULL`;
 *   unreachable endpoints and timeouts `STORAGE_UNAVAILABLE`; a missing region or missing
 *   credentials `CONFIG_INVALID`. Messages never hold secrets.
 * - No I/O happens before the first operation; the bucket is checked then (once, on the first
 *   404 of a HEAD, which cannot tell a missing bucket from a missing object).
 */
export class S3Storage implements Storage {
  readonly location: string
  readonly #client: S3Client
  readonly #bucket: string
  /** The key prefix with its trailing `/`, or `''`. */
  readonly #prefix: string
  readonly #endpoint: string
  readonly #maxAttempts: number
  readonly #partSize: number
  readonly #queueSize: number
  readonly #secrets: string[]
  #bucketExists = false
  #closed = false

  constructor(location: string | S3Location, options: S3StorageOptions = {}) {
    const { bucket, prefix } = typeof location === 'string' ? parseS3Url(location) : location
    this.#bucket = bucket
    this.#prefix = prefix === '' ? '' : `${prefix}/`
    this.location = `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 4, 1)
    this.#partSize = positiveInteger('partSize', options.partSize ?? 8 * MiB, MIN_PART_SIZE)
    this.#queueSize = positiveInteger('queueSize', options.queueSize ?? 4, 1)
    const timeoutMs = positiveInteger('requestTimeoutMs', options.requestTimeoutMs ?? 30_000, 1)
    const endpoint =
      options.endpoint ??
      nonEmpty(process.env['AWS_ENDPOINT_URL_S3']) ??
      nonEmpty(process.env['AWS_ENDPOINT_URL'])
    this.#endpoint = endpoint === undefined ? 'AWS S3' : redactUrl(endpoint)
    this.#secrets = [
      options.credentials?.secretAccessKey,
      options.credentials?.sessionToken,
      process.env['AWS_SECRET_ACCESS_KEY'],
      process.env['AWS_SESSION_TOKEN'],
    ].filter((s): s is string => s !== undefined && s.length >= 4)
    this.#client = new S3Client({
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      followRegionRedirects: true,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: timeoutMs, socketTimeout: timeoutMs },
    })
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    assertValidKey(key)
    const range = options.range
    if (range !== undefined) assertValidRange(range)
    throwIfAborted(options.signal)
    if (range?.length === 0) {
      // HTTP cannot ask for zero bytes; still fail as a get of a missing object does.
      if ((await this.stat(key, options)) === null) throw this.#notFound(key)
      return new Uint8Array(0)
    }
    return this.#retrying('read', key, options.signal, async () => {
      let output
      try {
        output = await this.#client.send(
          new GetObjectCommand({
            Bucket: this.#bucket,
            Key: this.#prefix + key,
            // Ask for the stored checksum so the SDK verifies whole reads, whatever
            // AWS_RESPONSE_CHECKSUM_VALIDATION says; ranges have none to check.
            ...(range === undefined
              ? { ChecksumMode: 'ENABLED' }
              : { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
          }),
          { abortSignal: options.signal },
        )
      } catch (err) {
        // 416: the range starts at or past the end of the object.
        if (range !== undefined && statusOf(err) === 416) return new Uint8Array(0)
        throw err
      }
      const bytes = (await output.Body?.transformToByteArray()) ?? new Uint8Array(0)
      if (output.ContentLength !== undefined && bytes.byteLength !== output.ContentLength) {
        throw new DbsnapError(
          'STORAGE_UNAVAILABLE',
          `expected ${output.ContentLength} bytes of "${key}" from ${this.#endpoint}, got ${bytes.byteLength}: the connection broke`,
          { retryable: true, details: this.#details(key) },
        )
      }
      return bytes
    })
  }

  async put(key: string, source: ByteSource, options: PutOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    await this.#retrying('write', key, options.signal, () =>
      source.size <= this.#partSize
        ? this.#putOnce(key, source, options)
        : this.#putMultipart(key, source, options),
    )
  }

  async stat(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | null> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const head = await this.#retrying('stat', key, options.signal, async () => {
      try {
        return await this.#client.send(
          new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
          { abortSignal: options.signal },
        )
      } catch (err) {
        if (statusOf(err) === 404) return null
        throw err
      }
    })
    if (head === null) {
      await this.#checkBucket(options.signal)
      return null
    }
    return { key, size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) }
  }

  async *list(prefix: string, options: StorageCallOptions = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix)
    throwIfAborted(options.signal)
    let token: string | undefined
    do {
      const page: ListObjectsV2CommandOutput = await this.#retrying(
        'list',
        undefined,
        options.signal,
        () =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.#bucket,
              Prefix: this.#prefix + prefix,
              ...(token === undefined ? {} : { ContinuationToken: token }),
            }),
            { abortSignal: options.signal },
          ),
      )
      for (const object of page.Contents ?? []) {
        const key = (object.Key ?? '').slice(this.#prefix.length)
        if (!isValidKey(key)) continue
        yield { key, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    await this.#retrying('delete', key, options.signal, async () => {
      try {
        await this.#client.send(
          new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
          { abortSignal: options.signal },
        )
      } catch (err) {
        if (errorName(err) !== 'NoSuchKey') throw err
      }
    })
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#client.destroy()
    }
    return Promise.resolve()
  }

  /** One PUT from a buffer of the whole (small) object, with its SHA-256 for the server. */
  async #putOnce(key: string, source: ByteSource, options: PutOptions): Promise<void> {
    // Most sources are one buffer already: send it as it is instead of copying it, which would
    // double the garbage big buffers leave until a full GC.
    const pieces: Uint8Array[] = []
    for await (const piece of checkedBytes(source, options.sha256)) {
      throwIfAborted(options.signal)
      pieces.push(piece)
    }
    const body =
      pieces.length === 1
        ? Buffer.from(pieces[0]!.buffer, pieces[0]!.byteOffset, pieces[0]!.byteLength)
        : Buffer.concat(pieces, source.size)
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#prefix + key,
        Body: body,
        ContentLength: body.byteLength,
        ...(options.sha256 === undefined
          ? { ChecksumAlgorithm: 'SHA256' }
          : { ChecksumSHA256: Buffer.from(options.sha256).toString('base64') }),
      }),
      { abortSignal: options.signal },
    )
  }

  /**
   * A multipart upload streamed from the source. A full-object SHA-256 cannot be sent with one
   * (S3 would compare it with the composite checksum), so `options.sha256` is checked on our side
   * while the parts, each with its own SHA-256, are checked by the server.
   */
  async #putMultipart(key: string, source: ByteSource, options: PutOptions): Promise<void> {
    const controller = new AbortController()
    const onAbort = (): void => controller.abort()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const upload = new Upload({
        client: this.#client,
        params: {
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          Body: Readable.from(checkedBytes(source, options.sha256)),
          ChecksumAlgorithm: 'SHA256',
        },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
        abortController: controller,
      })
      await upload.done()
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Remembers that the bucket exists, or rejects with `STORAGE_LOCATION_NOT_FOUND`. */
  async #checkBucket(signal: AbortSignal | undefined): Promise<void> {
    if (this.#bucketExists) return
    await this.#retrying('open', undefined, signal, async () => {
      try {
        await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), {
          abortSignal: signal,
        })
      } catch (err) {
        if (statusOf(err) === 404) throw this.#bucketMissing(err)
        // Without s3:ListBucket the check is refused; the object request worked, so go on.
        if (statusOf(err) !== 403) throw err
      }
    })
    this.#bucketExists = true
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or `maxAttempts` are spent; waits between
   * attempts `random(0, min(10 s, base × 2^n))` (full jitter), with a longer base when the
   * server asked to slow down. Errors of the byte source are rethrown at once, unchanged.
   */
  async #retrying<T>(
    action: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let n = 1; ; n += 1) {
      try {
        return await attempt()
      } catch (err) {
        if (isSourceError(err)) throw err
        const mapped = this.#error(err, action, key, signal)
        if (!mapped.retryable || n >= this.#maxAttempts) {
          if (n > 1) mapped.details['attempts'] = n
          throw mapped
        }
        const base = mapped.details['throttled'] === true ? 1000 : 200
        try {
          await sleep(Math.random() * Math.min(10_000, base * 2 ** (n - 1)), undefined, { signal })
        } catch {
          throw abortError(signal as AbortSignal)
        }
      }
    }
  }

  /** Maps an SDK or network error to a DbsnapError; DbsnapErrors pass through. */
  #error(err: unknown, action: string, key: string | undefined, signal?: AbortSignal): DbsnapError {
    if (signal?.aborted === true) return abortError(signal)
    if (isDbsnapError(err)) return err
    const name = errorName(err)
    const status = statusOf(err)
    const what = key === undefined ? this.location : `"${key}" in ${this.location}`
    const serverSays = this.#scrub(
      `${name}${err instanceof Error && err.message !== '' && err.message !== 'UnknownError' ? `: ${err.message}` : ''}`,
    )
    const details: Record<string, unknown> = {
      ...this.#details(key),
      ...(name === undefined ? {} : { s3Code: name }),
      ...(status === undefined ? {} : { httpStatus: status }),
    }
    const make = (code: ErrorCode, message: string, retryable = false): DbsnapError =>
      new DbsnapError(code, message, { cause: err, retryable, details })

    if (name === 'AbortError') return make('ABORTED', 'operation aborted')
    if (name === 'NoSuchBucket') return this.#bucketMissing(err)
    if (name === 'NoSuchKey' || (status === 404 && (action === 'read' || action === 'stat'))) {
      return make('STORAGE_NOT_FOUND', `no object ${what}`)
    }
    if (FULL_CODES.has(name ?? '') || status === 507) {
      return make('STORAGE_FULL', `cannot ${action} ${what}: the storage is full (${serverSays})`)
    }
    if (CHECKSUM_CODES.has(name ?? '')) {
      return make(
        'STORAGE_FAILED',
        `cannot ${action} ${what}: the bytes were corrupted on the way (${serverSays})`,
        true,
      )
    }
    if (err instanceof Error && /checksum mismatch/i.test(err.message)) {
      return make(
        'DATA_CORRUPT',
        `cannot ${action} ${what}: the bytes received do not match the stored checksum`,
        true,
      )
    }
    if (name === 'RequestTimeTooSkewed') {
      return make(
        'STORAGE_FAILED',
        `cannot ${action} ${what}: this machine's clock differs too much from the server's`,
        true,
      )
    }
    if (status === 403 || PERMISSION_CODES.has(name ?? '')) {
      return make(
        'STORAGE_PERMISSION_DENIED',
        `access denied to ${action} ${what} at ${this.#endpoint} (${serverSays}): check the access key, the secret and the bucket policy`,
      )
    }
    if (status === 429 || THROTTLING_CODES.has(name ?? '')) {
      details['throttled'] = true
      return make(
        'STORAGE_UNAVAILABLE',
        `${this.#endpoint} asks to slow down (${serverSays})`,
        true,
      )
    }
    if ((status !== undefined && status >= 500) || TIMEOUT_CODES.has(name ?? '')) {
      return make(
        'STORAGE_UNAVAILABLE',
        name === 'TimeoutError'
          ? `no answer from ${this.#endpoint} in time to ${action} ${what}`
          : `${this.#endpoint} failed to ${action} ${what} (${serverSays})`,
        true,
      )
    }
    const network = findErrorCode(err)
    if (network !== undefined && NETWORK_CODES.has(network)) {
      return make(
        'STORAGE_UNAVAILABLE',
        `cannot reach ${this.#endpoint} to ${action} ${what}: ${NETWORK_CODES.get(network)} (${network})`,
        true,
      )
    }
    if (name === 'CredentialsProviderError') {
      return make(
        'CONFIG_INVALID',
        'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
      )
    }
    if (err instanceof Error && err.message === 'Region is missing') {
      return make('CONFIG_INVALID', 'no AWS region set: set AWS_REGION (any value for MinIO)')
    }
    return make('STORAGE_FAILED', `cannot ${action} ${what} at ${this.#endpoint}: ${serverSays}`)
  }

  #bucketMissing(cause: unknown): DbsnapError {
    return new DbsnapError(
      'STORAGE_LOCATION_NOT_FOUND',
      `no bucket "${this.#bucket}" at ${this.#endpoint}`,
      { cause, details: this.#details(undefined) },
    )
  }

  #notFound(key: string): DbsnapError {
    return new DbsnapError('STORAGE_NOT_FOUND', `no object "${key}" in ${this.location}`, {
      details: this.#details(key),
    })
  }

  #details(key: string | undefined): Record<string, unknown> {
    return {
      location: this.location,
      endpoint: this.#endpoint,
      ...(key === undefined ? {} : { key }),
    }
  }

  #scrub(text: string): string {
    return this.#secrets.reduce((t, secret) => t.split(secret).join('****'), text)
  }
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected ${name} to be an integer from ${min} up, got ${String(value)}`,
    )
  }
  return value
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** `url` without the user name and password it may carry. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//****@')
}
