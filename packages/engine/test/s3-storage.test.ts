// S3Storage against the real MinIO of scripts/services.sh: the Storage conformance suite, then
// what only a server shows (missing bucket, wrong secret, dead or silent endpoints, multipart,
// checksums), plus a flaky HTTP proxy in front of MinIO for transient failures.

import { createHash, randomBytes } from 'node:crypto'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { isDbsnapError } from '../src/errors.js'
import { openStorage } from '../src/storage/open-storage.js'
import { S3Storage, type S3StorageOptions } from '../src/storage/s3/s3-storage.js'
import { describeStorageConformance } from '../src/storage/storage-conformance.js'
import { bytesSource, type ByteSource, type Storage } from '../src/storage/storage.js'
import { blackhole, closedPort } from '../../../test/net.js'
import { testServices } from '../../../test/services.js'

const { s3 } = testServices()
const MiB = 1024 * 1024
const runPrefix = `storage-test/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
let caseNumber = 0

const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }

function storageAt(prefix: string, options: S3StorageOptions = {}): S3Storage {
  return new S3Storage(`s3://${s3.bucket}/${runPrefix}/${prefix}`, {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials,
    ...options,
  })
}

const raw = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  credentials,
  forcePathStyle: true,
})

async function deleteAll(storage: Storage): Promise<void> {
  const keys: string[] = []
  for await (const object of storage.list('')) keys.push(object.key)
  await Promise.all(keys.map((key) => storage.delete(key)))
}

async function pendingUploads(prefix: string): Promise<string[]> {
  const out = await raw.send(
    new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${runPrefix}/${prefix}` }),
  )
  return (out.Uploads ?? []).map((u) => u.Key ?? '')
}

afterAll(async () => {
  const everything = storageAt('')
  await deleteAll(everything)
  await everything.close()
  const out = await raw.send(
    new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${runPrefix}/` }),
  )
  for (const upload of out.Uploads ?? []) {
    await raw.send(
      new AbortMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: upload.Key,
        UploadId: upload.UploadId,
      }),
    )
  }
  raw.destroy()
})

describeStorageConformance(
  'S3Storage on MinIO',
  () => {
    caseNumber += 1
    // 5 MiB parts (the minimum) so the multi-MiB cases go through multipart uploads.
    const storage = storageAt(`conformance-${caseNumber}`, { partSize: 5 * MiB, queueSize: 2 })
    return Promise.resolve({
      storage,
      cleanup: async () => {
        const admin = storageAt(`conformance-${caseNumber}`)
        await deleteAll(admin)
        await admin.close()
      },
    })
  },
  { largeObjectSize: 6 * MiB },
)

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await promise.then(
    () => new Error('expected a rejection, got success'),
    (e: unknown) => e,
  )
  if (!isDbsnapError(err)) throw err
  return { code: err.code, retryable: err.retryable, message: err.message, details: err.details }
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** A source of `size` random-looking bytes generated in 64 KiB pieces, counting its opens. */
function streamedSource(size: number): ByteSource & { opens: number; sha256: Buffer } {
  const seed = randomBytes(64 * 1024)
  const pieces = function* (): Generator<Uint8Array> {
    for (let at = 0, n = 0; at < size; at += seed.length, n += 1) {
      const piece = Buffer.from(seed.subarray(0, Math.min(seed.length, size - at)))
      piece.writeUInt32BE(n, 0)
      yield piece
    }
  }
  const hash = createHash('sha256')
  for (const piece of pieces()) hash.update(piece)
  const source = {
    size,
    opens: 0,
    sha256: hash.digest(),
    async *open() {
      source.opens += 1
      for (const piece of pieces()) {
        await Promise.resolve()
        yield piece
      }
    },
  }
  return source
}

describe('S3Storage on MinIO', () => {
  it('rejects every operation on a missing bucket with STORAGE_LOCATION_NOT_FOUND', async () => {
    const storage = new S3Storage(
      `s3://dbsnap-no-such-bucket-${randomBytes(4).toString('hex')}/x`,
      {
        endpoint: s3.endpoint,
        region: s3.region,
        credentials,
      },
    )
    try {
      for (const call of [
        () => storage.get('config'),
        () => storage.put('config', bytesSource(Uint8Array.of(1))),
        () => storage.put('big', streamedSource(6 * MiB)),
        () => storage.stat('config'),
        () => storage.delete('config'),
        async () => {
          for await (const _ of storage.list('')) return
        },
      ]) {
        expect(await failure(call())).toMatchObject({
          code: 'STORAGE_LOCATION_NOT_FOUND',
          message: expect.stringContaining('no bucket "dbsnap-no-such-bucket-') as string,
        })
      }
    } finally {
      await storage.close()
    }
  })

  it('rejects a wrong secret with STORAGE_PERMISSION_DENIED, never showing a secret', async () => {
    const wrongSecret = `wrong-${randomBytes(8).toString('hex')}`
    const storage = storageAt('denied', {
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: wrongSecret },
    })
    const unknownKey = storageAt('denied', {
      credentials: { accessKeyId: 'no-such-access-key', secretAccessKey: wrongSecret },
    })
    try {
      for (const call of [
        () => storage.get('config'),
        () => storage.put('config', bytesSource(Uint8Array.of(1))),
        () => storage.stat('config'),
        () => storage.delete('config'),
        async () => {
          for await (const _ of storage.list('')) return
        },
        () => unknownKey.stat('config'),
        () => unknownKey.get('config'),
      ]) {
        const err = await failure(call())
        expect(err).toMatchObject({ code: 'STORAGE_PERMISSION_DENIED', retryable: false })
        expect(err['message']).not.toContain(wrongSecret)
        expect(err['message']).not.toContain(s3.secretAccessKey)
        expect(JSON.stringify(err['details'])).not.toContain(wrongSecret)
      }
    } finally {
      await storage.close()
      await unknownKey.close()
    }
  })

  it('fails fast with a retryable STORAGE_UNAVAILABLE when nothing listens or the host is unknown', async () => {
    const port = await closedPort()
    const storage = new S3Storage(`s3://${s3.bucket}/x`, {
      endpoint: `http://127.0.0.1:${port}`,
      region: s3.region,
      credentials,
    })
    try {
      const started = Date.now()
      const err = await failure(storage.get('config'))
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(err).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        retryable: true,
        message: expect.stringContaining('connection refused') as string,
        details: { attempts: 4 },
      })
      expect(await failure(storage.put('config', bytesSource(Uint8Array.of(1))))).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
      })
    } finally {
      await storage.close()
    }
    // RFC 2606 reserves .invalid: the name never resolves.
    const nowhere = new S3Storage(`s3://${s3.bucket}/x`, {
      endpoint: 'http://dbsnap-no-such-host.invalid:9000',
      region: s3.region,
      credentials,
      maxAttempts: 2,
    })
    try {
      expect(await failure(nowhere.stat('config'))).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        retryable: true,
        message: expect.stringContaining('host not found (ENOTFOUND)') as string,
      })
    } finally {
      await nowhere.close()
    }
  })

  it('gives up on an endpoint that accepts connections but never answers, in bounded time', async () => {
    const hole = await blackhole()
    const storage = new S3Storage(`s3://${s3.bucket}/x`, {
      endpoint: `http://127.0.0.1:${hole.port}`,
      region: s3.region,
      credentials,
      requestTimeoutMs: 1_000,
      maxAttempts: 2,
    })
    try {
      for (const call of [
        () => storage.stat('config'),
        () => storage.put('config', bytesSource(Uint8Array.of(1))),
      ]) {
        const started = Date.now()
        const err = await failure(call())
        expect(Date.now() - started).toBeLessThan(8_000)
        expect(err).toMatchObject({
          code: 'STORAGE_UNAVAILABLE',
          retryable: true,
          message: expect.stringContaining('no answer') as string,
          details: { attempts: 2 },
        })
      }
    } finally {
      await storage.close()
      await hole.close()
    }
  })

  it('aborts a call waiting on a silent endpoint as soon as the signal fires', async () => {
    const hole = await blackhole()
    const storage = new S3Storage(`s3://${s3.bucket}/x`, {
      endpoint: `http://127.0.0.1:${hole.port}`,
      region: s3.region,
      credentials,
    })
    try {
      const started = Date.now()
      const err = await failure(storage.get('config', { signal: AbortSignal.timeout(300) }))
      expect(err['code']).toBe('ABORTED')
      expect(Date.now() - started).toBeLessThan(3_000)
    } finally {
      await storage.close()
      await hole.close()
    }
  })

  it('streams a ~20 MiB object as a multipart upload with per-part SHA-256 checksums', async () => {
    const storage = storageAt('multipart', { queueSize: 2 })
    try {
      const source = streamedSource(20 * MiB + 12_345)
      await storage.put('big/object', source)
      expect(source.opens).toBe(1)
      const head = await raw.send(
        new HeadObjectCommand({
          Bucket: s3.bucket,
          Key: `${runPrefix}/multipart/big/object`,
          ChecksumMode: 'ENABLED',
        }),
      )
      // 8 MiB parts: three of them, and a composite SHA-256 over the parts' SHA-256s.
      expect(head.ContentLength).toBe(source.size)
      expect(head.ChecksumSHA256).toMatch(/-3$/)
      const got = await storage.get('big/object')
      expect(sha256(got)).toEqual(source.sha256)
      const part = await storage.get('big/object', { range: { offset: 8 * MiB - 10, length: 20 } })
      expect(part.byteLength).toBe(20)
      expect(Buffer.from(part)).toEqual(Buffer.from(got.subarray(8 * MiB - 10, 8 * MiB + 10)))
    } finally {
      await deleteAll(storage)
      await storage.close()
    }
  })

  it('sends small objects as one PUT that the server checks against their SHA-256', async () => {
    const storage = storageAt('single-put')
    try {
      const bytes = randomBytes(100_000)
      await storage.put('given', bytesSource(bytes), { sha256: sha256(bytes) })
      await storage.put('computed', bytesSource(bytes))
      for (const key of ['given', 'computed']) {
        const head = await raw.send(
          new HeadObjectCommand({
            Bucket: s3.bucket,
            Key: `${runPrefix}/single-put/${key}`,
            ChecksumMode: 'ENABLED',
          }),
        )
        expect(head.ChecksumSHA256).toBe(sha256(bytes).toString('base64'))
      }
    } finally {
      await deleteAll(storage)
      await storage.close()
    }
  })

  it('aborts a failed or cancelled multipart upload, leaving no object and no parts', async () => {
    const storage = storageAt('mpu-abort', { partSize: 5 * MiB, queueSize: 1 })
    try {
      const whole = streamedSource(16 * MiB)
      const broke = new Error('source broke after the first part')
      const failing: ByteSource = {
        size: whole.size,
        async *open() {
          let sent = 0
          for await (const piece of whole.open()) {
            if (sent >= 11 * MiB) throw broke
            sent += piece.byteLength
            yield piece
          }
        },
      }
      await expect(storage.put('failed', failing)).rejects.toBe(broke)
      const controller = new AbortController()
      const slow: ByteSource = {
        size: whole.size,
        async *open() {
          let sent = 0
          for await (const piece of whole.open()) {
            if (sent >= 6 * MiB) controller.abort()
            sent += piece.byteLength
            yield piece
          }
        },
      }
      expect(
        await failure(storage.put('cancelled', slow, { signal: controller.signal })),
      ).toMatchObject({ code: 'ABORTED' })
      expect(await storage.stat('failed')).toBeNull()
      expect(await storage.stat('cancelled')).toBeNull()
      // The multipart abort of a cancelled upload runs after put rejected: give it a moment.
      for (let i = 0; i < 50 && (await pendingUploads('mpu-abort/')).length > 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(await pendingUploads('mpu-abort/')).toEqual([])
    } finally {
      await storage.close()
    }
  })

  it('honours AWS_ENDPOINT_URL_S3 and the standard credential variables through openStorage', async () => {
    const names = [
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_REGION',
      'AWS_PROFILE',
    ]
    const saved = new Map(names.map((name) => [name, process.env[name]]))
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
    })
    delete process.env['AWS_ENDPOINT_URL']
    delete process.env['AWS_SESSION_TOKEN']
    delete process.env['AWS_PROFILE']
    const storage = await openStorage(`s3://${s3.bucket}/${runPrefix}/from-env`)
    try {
      expect(storage.location).toBe(`s3://${s3.bucket}/${runPrefix}/from-env`)
      await storage.put('config', bytesSource(Buffer.from('via the environment')))
      expect(Buffer.from(await storage.get('config')).toString()).toBe('via the environment')
      await storage.delete('config')
    } finally {
      await storage.close()
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
  })
})

type ProxyAction = 'pass' | 'slow-down' | 'storage-full' | 'corrupt-body' | 'cut-response'

interface FlakyProxy {
  endpoint: string
  /** `METHOD path` of every request received, in order. */
  requests: string[]
  /** Request body bytes received so far. */
  received: number
  close(): Promise<void>
}

/**
 * An HTTP proxy in front of MinIO that does to each request what `decide` says: pass it on,
 * answer 503 SlowDown or 507 XMinioStorageFull, flip a byte of its body on the way, or cut the
 * response body halfway. Requests keep their Host header, so their signatures stay valid.
 */
async function flakyProxy(decide: (req: IncomingMessage) => ProxyAction): Promise<FlakyProxy> {
  const target = new URL(s3.endpoint)
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    req.on('data', (chunk: Buffer) => (proxy.received += chunk.length))
    const action = decide(req)
    if (action === 'slow-down' || action === 'storage-full') {
      const [status, code] = action === 'slow-down' ? [503, 'SlowDown'] : [507, 'XMinioStorageFull']
      req.resume()
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/xml' })
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`,
        )
      })
      return
    }
    const headers = { ...req.headers }
    delete headers['expect']
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        if (action !== 'cut-response') {
          answer.pipe(res)
          return
        }
        answer.once('data', (chunk: Buffer) => {
          res.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), () => res.destroy())
          answer.destroy()
        })
      },
    )
    upstream.on('error', () => res.destroy())
    if (action !== 'corrupt-body') {
      req.pipe(upstream)
      return
    }
    let flipped = false
    req.on('data', (chunk: Buffer) => {
      if (!flipped && chunk.length > 0) {
        chunk = Buffer.from(chunk)
        chunk[chunk.length - 1] = (chunk[chunk.length - 1] ?? 0) ^ 0xff
        flipped = true
      }
      upstream.write(chunk)
    })
    req.on('end', () => upstream.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const proxy: FlakyProxy = {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    received: 0,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}

describe('S3Storage through a flaky proxy in front of MinIO', () => {
  const viaProxy = (proxy: FlakyProxy, prefix: string, options: S3StorageOptions = {}): S3Storage =>
    new S3Storage(`s3://${s3.bucket}/${runPrefix}/${prefix}`, {
      endpoint: proxy.endpoint,
      region: s3.region,
      credentials,
      ...options,
    })

  it('retries 503 SlowDown and succeeds; gives up after maxAttempts with STORAGE_UNAVAILABLE', async () => {
    let slowDowns = 2
    const proxy = await flakyProxy((req) =>
      req.method === 'PUT' && slowDowns-- > 0 ? 'slow-down' : 'pass',
    )
    const storage = viaProxy(proxy, 'slow-down')
    try {
      const source = streamedSource(1000)
      await storage.put('config', source)
      expect(proxy.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(3)
      // Every attempt re-reads the source from its start.
      expect(source.opens).toBe(3)
      expect(sha256(await storage.get('config'))).toEqual(source.sha256)
      slowDowns = Infinity
      const err = await failure(storage.put('other', bytesSource(Uint8Array.of(1))))
      expect(err).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        retryable: true,
        details: { attempts: 4, throttled: true, s3Code: 'SlowDown', httpStatus: 503 },
      })
      await storage.delete('config')
    } finally {
      await storage.close()
      await proxy.close()
    }
  })

  it('does not retry a full storage (507 XMinioStorageFull): STORAGE_FULL', async () => {
    const proxy = await flakyProxy((req) => (req.method === 'PUT' ? 'storage-full' : 'pass'))
    const storage = viaProxy(proxy, 'full')
    try {
      expect(await failure(storage.put('config', bytesSource(Uint8Array.of(1))))).toMatchObject({
        code: 'STORAGE_FULL',
        retryable: false,
      })
      expect(proxy.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(1)
    } finally {
      await storage.close()
      await proxy.close()
    }
  })

  it('has the server refuse a body corrupted in transit, and resends it from a re-opened source', async () => {
    let corruptions = 1
    const proxy = await flakyProxy((req) =>
      req.method === 'PUT' && corruptions-- > 0 ? 'corrupt-body' : 'pass',
    )
    const storage = viaProxy(proxy, 'corrupt')
    try {
      const source = streamedSource(200_000)
      await storage.put('chunk', source, { sha256: source.sha256 })
      expect(source.opens).toBe(2)
      expect(sha256(await storage.get('chunk'))).toEqual(source.sha256)
      await storage.delete('chunk')
    } finally {
      await storage.close()
      await proxy.close()
    }
  })

  it('reads a multipart source only about partSize × (queueSize + 1) ahead of the network', async () => {
    const proxy = await flakyProxy(() => 'pass')
    const storage = viaProxy(proxy, 'bounded', { partSize: 5 * MiB, queueSize: 2 })
    try {
      const whole = streamedSource(40 * MiB)
      let yielded = 0
      let ahead = 0
      const measured: ByteSource = {
        size: whole.size,
        async *open() {
          for await (const piece of whole.open()) {
            yielded += piece.byteLength
            ahead = Math.max(ahead, yielded - proxy.received)
            yield piece
          }
        },
      }
      await storage.put('big', measured)
      // Three parts (two in flight, one filling) plus stream and socket buffers.
      expect(ahead).toBeLessThan(18 * MiB)
      expect(ahead).toBeGreaterThan(5 * MiB)
      expect(sha256(await storage.get('big'))).toEqual(whole.sha256)
      await storage.delete('big')
    } finally {
      await storage.close()
      await proxy.close()
    }
  })

  it('retries a get whose response body is cut off', async () => {
    let cuts = 1
    const proxy = await flakyProxy((req) =>
      req.method === 'GET' && req.url?.includes('/cut/') === true && cuts-- > 0
        ? 'cut-response'
        : 'pass',
    )
    const storage = viaProxy(proxy, 'cut')
    try {
      const bytes = randomBytes(300_000)
      await storage.put('object', bytesSource(bytes))
      expect(Buffer.from(await storage.get('object'))).toEqual(bytes)
      expect(proxy.requests.filter((r) => r.startsWith('GET'))).toHaveLength(2)
      await storage.delete('object')
    } finally {
      await storage.close()
      await proxy.close()
    }
  })
})
