// Proves the test services from scripts/services.sh are real and usable by the drivers DBSnap ships:
// MongoDB wire protocol with authentication, S3 multipart upload, PostgreSQL and MySQL.

import { createHash, randomBytes } from 'node:crypto'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { MongoClient, MongoServerError } from 'mongodb'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices } from '../../../test/services.js'

const services = testServices()

const runId = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
const MiB = 1024 * 1024

describe('mongodb (DBSNAP_TEST_MONGO_URL)', () => {
  let client: MongoClient

  beforeAll(async () => {
    client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 })
    await client.connect()
  })

  afterAll(async () => {
    await client?.close()
  })

  it('inserts 1000 documents and reads them back in _id order through small batches', async () => {
    interface Doc {
      _id: number
      name: string
      payload: string
    }
    const coll = client.db('dbsnap_test').collection<Doc>(`services_${runId}`)
    try {
      // Inserted in a scrambled order so that the sort is what puts them in order.
      const ids = Array.from({ length: 1000 }, (_, i) => (i * 389) % 1000)
      expect(new Set(ids).size).toBe(1000)
      const inserted = await coll.insertMany(
        ids.map((id) => ({ _id: id, name: `doc-${id}`, payload: 'x'.repeat(id % 97) })),
      )
      expect(inserted.insertedCount).toBe(1000)

      let expected = 0
      for await (const doc of coll.find({}, { sort: { _id: 1 }, batchSize: 7 })) {
        expect(doc).toEqual({
          _id: expected,
          name: `doc-${expected}`,
          payload: 'x'.repeat(expected % 97),
        })
        expected++
      }
      expect(expected).toBe(1000)

      const names = (
        await client.db('dbsnap_test').listCollections({}, { nameOnly: true }).toArray()
      ).map((c) => c.name)
      expect(names).toContain(coll.collectionName)

      expect(await coll.createIndex({ name: 1 }, { name: 'name_1', unique: true })).toBe('name_1')
      const indexes: unknown[] = await coll.listIndexes().toArray()
      expect(indexes).toHaveLength(2)
      expect(indexes).toContainEqual(expect.objectContaining({ name: '_id_', key: { _id: 1 } }))
      expect(indexes).toContainEqual(
        expect.objectContaining({ name: 'name_1', key: { name: 1 }, unique: true }),
      )
    } finally {
      await coll.drop().catch(() => undefined)
    }
  })

  it('rejects a wrong password', async (ctx) => {
    const url = services.mongoUrl
    const credentials = /^(mongodb(?:\+srv)?:\/\/[^:@/]+:)[^@/]*@/
    ctx.skip(!credentials.test(url), 'DBSNAP_TEST_MONGO_URL has no password (auth off)')
    const wrong = new MongoClient(url.replace(credentials, '$1wrong-password@'), {
      serverSelectionTimeoutMS: 10_000,
    })
    try {
      const error: unknown = await wrong.connect().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(MongoServerError)
      expect(error).toMatchObject({ code: 18 }) // AuthenticationFailed
      expect((error as MongoServerError).message).toMatch(/authentication failed/i)
    } finally {
      await wrong.close()
    }
  })
})

describe('s3 (DBSNAP_TEST_S3_ENDPOINT)', () => {
  it('uploads 12 MiB in 5 MiB parts, reads it back intact and deletes it', async () => {
    const bucket = services.s3.bucket
    const s3 = new S3Client({
      endpoint: services.s3.endpoint,
      region: services.s3.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: services.s3.accessKeyId,
        secretAccessKey: services.s3.secretAccessKey,
      },
    })
    const key = `services-test/${runId}/multipart.bin`
    const body = randomBytes(12 * MiB)
    const sha256 = createHash('sha256').update(body).digest('hex')
    try {
      const upload = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: body },
        partSize: 5 * MiB,
        queueSize: 2,
        leavePartsOnError: false,
      })
      const parts = new Set<number>()
      upload.on('httpUploadProgress', (p) => {
        if (p.part !== undefined) parts.add(p.part)
      })
      const done = await upload.done()
      expect(parts).toEqual(new Set([1, 2, 3]))
      // A multipart object's ETag is "<md5 of the part md5s>-<part count>".
      expect(done.ETag).toMatch(/-3"?$/)

      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      expect(head.ContentLength).toBe(body.length)

      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const bytes = await got.Body?.transformToByteArray()
      expect(bytes?.length).toBe(body.length)
      expect(
        createHash('sha256')
          .update(bytes ?? new Uint8Array())
          .digest('hex'),
      ).toBe(sha256)

      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
      await expect(
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } })
    } finally {
      // Cleanup after a failure; must not replace the failure's own error.
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined)
      s3.destroy()
    }
  })
})

describe('sql servers', () => {
  it('postgres answers SELECT 1 (DBSNAP_TEST_PG_URL)', async () => {
    const client = new pg.Client({ connectionString: services.pgUrl })
    await client.connect()
    try {
      const result = await client.query<{ one: number }>('SELECT 1 AS one')
      expect(result.rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
    }
  })

  it('mysql answers SELECT 1 (DBSNAP_TEST_MYSQL_URL)', async () => {
    const conn = await createConnection(services.mysqlUrl)
    try {
      const [rows] = await conn.query('SELECT 1 AS one')
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      await conn.end()
    }
  })
})
