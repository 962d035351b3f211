// What the restore target sends to recreate collections and indexes, checked against MongoDB
// 7.0's documented listCollections/listIndexes output (FerretDB, the integration server, has
// few of these options), and how write failures map to error codes.

import { BSON, Int32, MongoNetworkError, MongoServerError, type Document } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { parseConnectionUrl } from '../../connection/url.js'
import { mongoWriteError } from './mongo-errors.js'
import { collectionSchema, indexSchema } from './mongo-introspect.js'
import { collectionOptions, indexSpec } from './mongo-target-objects.js'

const target = parseConnectionUrl(
  'mongodb://restorer:s3cret-pw@db.example:27017/shop_copy?authSource=admin',
)

const serverError = (code: number, errmsg: string): MongoServerError =>
  new MongoServerError({ ok: 0, code, errmsg })

const bytes = (doc: unknown): Buffer => Buffer.from(BSON.serialize(doc as Document))

describe('indexSpec', () => {
  it.each<[string, Document]>([
    ['compound, descending', { v: 2, key: { b: -1, a: 1 }, name: 'b_-1_a_1' }],
    [
      'unique with collation',
      {
        v: 2,
        key: { email: new Int32(1) },
        name: 'email_1',
        unique: true,
        collation: { locale: 'en', strength: new Int32(2) },
      },
    ],
    [
      'partial',
      {
        v: 2,
        key: { a: 1 },
        name: 'a_1',
        partialFilterExpression: { a: { $gt: new Int32(5) }, b: { $exists: true } },
      },
    ],
    ['TTL', { v: 2, key: { at: 1 }, name: 'at_1', expireAfterSeconds: new Int32(3600) }],
    [
      'text',
      {
        v: 2,
        key: { _fts: 'text', _ftsx: 1 },
        name: 'title_text_body_text',
        weights: { body: 1, title: 10 },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: 3,
      },
    ],
    ['hashed', { v: 2, key: { h: 'hashed' }, name: 'h_hashed' }],
    [
      'wildcard',
      { v: 2, key: { '$**': 1 }, name: '$**_1', wildcardProjection: { a: 1, 'b.c': 0 } },
    ],
    ['an old v1 index', { v: 1, key: { old: 1 }, name: 'old_1' }],
  ])('recreates %s with the key in order and every option', (_, listed) => {
    // v2 is the default; FerretDB refuses the option, so only another version is sent.
    const { v, key, name, ...options } = listed as { v: number; key: Document; name: string }
    const expected = { key, name, ...(v === 2 ? {} : { v }), ...options }
    expect(bytes(indexSpec(indexSchema(listed))).equals(bytes(expected))).toBe(true)
  })
})

describe('collectionOptions', () => {
  it.each<[string, Document]>([
    ['none', {}],
    ['capped', { capped: true, size: new Int32(65536), max: new Int32(100) }],
    [
      'validator, with its field order',
      {
        validator: { $jsonSchema: { required: ['b', 'a'], properties: { b: {}, a: {} } } },
        validationLevel: 'moderate',
        validationAction: 'warn',
      },
    ],
    ['collation', { collation: { locale: 'fr', strength: new Int32(1) } }],
    [
      'time-series',
      {
        timeseries: { timeField: 'at', metaField: 'm', granularity: 'hours' },
        expireAfterSeconds: BSON.Long.fromNumber(86400),
      },
    ],
  ])('gives back what listCollections listed: %s', (_, options) => {
    const table = collectionSchema({ name: 'c', type: 'collection' }, options, [], {})
    expect(bytes(collectionOptions(table)).equals(bytes(options))).toBe(true)
  })
})

describe('mongoWriteError', () => {
  it('names readWrite on the database when the user may not write', () => {
    const err = mongoWriteError(
      serverError(13, 'not authorized on shop_copy to execute command { insert: "orders" }'),
      target,
      { collection: 'orders' },
    )
    expect(err.code).toBe('CONNECTION_PRIVILEGE_MISSING')
    expect(err.message).toContain('may not write database "shop_copy"')
    expect(err.message).toContain('grant it the role "readWrite" on "shop_copy"')
    expect(err.message).toContain('"restore" on "admin"')
    expect(err.details).toMatchObject({ grant: 'readWrite on shop_copy', collection: 'orders' })
  })

  it.each<[string, unknown, string, boolean]>([
    ['a secondary', serverError(10107, 'not primary'), 'TARGET_READ_ONLY', false],
    [
      'a dropped connection',
      new MongoNetworkError('connection 3 to db.example:27017 closed'),
      'CONNECTION_LOST',
      true,
    ],
    [
      'a server timeout',
      serverError(50, 'operation exceeded time limit'),
      'CONNECTION_TIMEOUT',
      true,
    ],
    [
      'a document too large',
      serverError(10334, 'object to insert too large'),
      'RESTORE_FAILED',
      false,
    ],
    ['a collection gone', serverError(26, 'ns does not exist'), 'RESTORE_FAILED', false],
  ])('maps %s', (_name, err, code, retryable) => {
    const mapped = mongoWriteError(err, target, { collection: 'orders' })
    expect(mapped.code).toBe(code)
    expect(mapped.retryable).toBe(retryable)
  })

  it('never shows the password, even when the server echoes it', () => {
    const err = mongoWriteError(serverError(2, 'bad value s3cret-pw'), target)
    expect(err.message).not.toContain('s3cret-pw')
    expect(err.message).toContain('server code 2')
  })
})
