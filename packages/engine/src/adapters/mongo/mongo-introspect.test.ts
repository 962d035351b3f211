// The normalized form of what MongoDB 7.0's listCollections and listIndexes return: every index
// option, validators, capped, time-series, collation and views (FerretDB, the integration
// server, supports few of these; test/mongo-introspect.test.ts covers what it does).

import { Double, Int32, UUID, type Document } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { collectionSchema, indexSchema, viewSchema } from './mongo-introspect.js'

const ID_INDEX = { v: 2, key: { _id: 1 }, name: '_id_' }

describe('indexSchema', () => {
  it.each<[string, Document, Partial<ReturnType<typeof indexSchema>>]>([
    [
      'the _id index',
      ID_INDEX,
      {
        unique: true,
        constraint: true,
        method: 'btree',
        columns: ['_id'],
        definition: 'createIndex({"_id":{"$numberInt":"1"}})',
      },
    ],
    [
      'unique with collation',
      {
        v: 2,
        key: { email: 1 },
        name: 'email_1',
        unique: true,
        collation: { locale: 'en', strength: 2 },
      },
      {
        unique: true,
        constraint: false,
        columns: ['email'],
        definition:
          'createIndex({"email":{"$numberInt":"1"}}, {"unique":true,"collation":{"locale":"en","strength":{"$numberInt":"2"}}})',
      },
    ],
    [
      'compound, descending',
      { v: 2, key: { a: 1, b: -1 }, name: 'a_1_b_-1' },
      { unique: false, method: 'btree', columns: ['a', 'b'] },
    ],
    [
      'partial',
      { v: 2, key: { a: 1 }, name: 'a_1', partialFilterExpression: { a: { $gt: 5 } } },
      { predicate: '{"a":{"$gt":{"$numberInt":"5"}}}' },
    ],
    [
      'sparse',
      { v: 2, key: { s: 1 }, name: 's_1', sparse: true },
      { definition: 'createIndex({"s":{"$numberInt":"1"}}, {"sparse":true})' },
    ],
    [
      'TTL',
      { v: 2, key: { at: 1 }, name: 'at_1', expireAfterSeconds: 3600 },
      {
        definition:
          'createIndex({"at":{"$numberInt":"1"}}, {"expireAfterSeconds":{"$numberInt":"3600"}})',
      },
    ],
    [
      'text',
      {
        v: 2,
        key: { _fts: 'text', _ftsx: 1 },
        name: 'title_text_body_text',
        weights: { title: 10, body: 1 },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: 3,
      },
      { method: 'text', columns: ['body', 'title'] },
    ],
    [
      'hashed',
      { v: 2, key: { h: 'hashed' }, name: 'h_hashed' },
      { method: 'hashed', columns: ['h'] },
    ],
    [
      '2dsphere',
      { v: 2, key: { loc: '2dsphere' }, name: 'loc_2dsphere', '2dsphereIndexVersion': 3 },
      { method: '2dsphere' },
    ],
    [
      'wildcard',
      { v: 2, key: { '$**': 1 }, name: '$**_1', wildcardProjection: { secret: 0 } },
      { method: 'wildcard', columns: ['$**'] },
    ],
    [
      'hidden',
      { v: 2, key: { x: 1 }, name: 'x_1', hidden: true },
      { definition: 'createIndex({"x":{"$numberInt":"1"}}, {"hidden":true})' },
    ],
  ])('%s', (_name, index, expected) => {
    const schema = indexSchema(index)
    expect(schema).toMatchObject(expected)
    expect(schema.name).toBe(index.name)
    const { key, name: _n, v: _v, ...options } = index
    expect(schema.extra?.version).toBe(2)
    // Every option but key, name and v is kept, in the server's order; the key in its order.
    expect(Object.keys(schema.extra?.options as object)).toEqual(Object.keys(options))
    expect(Object.keys(schema.extra?.key as object)).toEqual(Object.keys(key as object))
  })

  it('keeps the key pattern typed, directions included', () => {
    const schema = indexSchema({ v: 2, key: { a: 1, b: -1, c: new Double(1) }, name: 'abc' })
    expect(schema.extra?.key).toEqual({
      a: { $numberInt: '1' },
      b: { $numberInt: '-1' },
      c: { $numberDouble: '1.0' },
    })
  })
})

describe('collectionSchema', () => {
  const uuid = new UUID('0b6f8a1e-7c1d-4b4e-9a3f-2d9c8e7f6a5b')

  it('has the two ejson columns, the _id key, size estimates and the UUID', () => {
    const table = collectionSchema(
      {
        name: 'orders',
        type: 'collection',
        options: {},
        info: { readOnly: false, uuid },
        idIndex: ID_INDEX,
      },
      {},
      [ID_INDEX],
      { count: 10, size: 1234 },
    )
    expect(table).toMatchObject({
      schema: '',
      name: 'orders',
      kind: 'collection',
      primaryKey: { name: '_id_', columns: ['_id'] },
      checks: [],
      estimatedRows: 10,
      estimatedBytes: 1234,
    })
    expect(table.columns.map((c) => [c.name, c.encoding, c.nullable])).toEqual([
      ['_id', 'ejson', false],
      ['document', 'ejson', false],
    ])
    expect(table.extra).toMatchObject({
      type: 'collection',
      uuid: '0b6f8a1e-7c1d-4b4e-9a3f-2d9c8e7f6a5b',
      capped: null,
      timeseries: null,
      collation: null,
      validation: null,
    })
  })

  it('keeps the validator (as a check, with level and action), capped options and collation', () => {
    const options = {
      capped: true,
      size: 4096,
      max: new Int32(10),
      validator: {
        $jsonSchema: {
          required: ['a'],
          properties: { a: { bsonType: 'double', minimum: new Double(0) } },
        },
      },
      validationLevel: 'moderate',
      validationAction: 'warn',
      collation: { locale: 'fr', strength: 2 },
    }
    const table = collectionSchema(
      { name: 'c', type: 'collection', options, info: { uuid } },
      options,
      [ID_INDEX],
      {},
    )
    expect(table.checks).toEqual([
      {
        name: 'validator',
        definition:
          '{"$jsonSchema":{"required":["a"],"properties":{"a":{"bsonType":"double","minimum":{"$numberDouble":"0.0"}}}}}',
        extra: { level: 'moderate', action: 'warn' },
      },
    ])
    expect(table.extra).toMatchObject({
      capped: { size: 4096, max: 10 },
      collation: { locale: 'fr', strength: { $numberInt: '2' } },
      validation: { level: 'moderate', action: 'warn' },
    })
    expect(table.estimatedRows).toBeNull()
  })

  it('keeps time-series options', () => {
    const options = {
      timeseries: {
        timeField: 'ts',
        metaField: 'meta',
        granularity: 'hours',
        bucketMaxSpanSeconds: 2592000,
      },
    }
    const table = collectionSchema(
      { name: 'weather', type: 'timeseries', options, info: {} },
      options,
      [],
      {},
    )
    expect(table.extra).toMatchObject({
      type: 'timeseries',
      uuid: null,
      timeseries: {
        timeField: 'ts',
        metaField: 'meta',
        granularity: 'hours',
        bucketMaxSpanSeconds: { $numberInt: '2592000' },
      },
    })
  })

  it('sorts indexes by name', () => {
    const table = collectionSchema(
      { name: 'c', options: {} },
      {},
      [{ v: 2, key: { b: 1 }, name: 'b_1' }, ID_INDEX, { v: 2, key: { a: 1 }, name: 'a_1' }],
      {},
    )
    expect(table.indexes.map((i) => i.name)).toEqual(['_id_', 'a_1', 'b_1'])
  })
})

describe('viewSchema', () => {
  it('keeps viewOn and the pipeline, typed', () => {
    const view = viewSchema('big_orders', {
      viewOn: 'orders',
      pipeline: [{ $match: { total: { $gt: new Int32(100) } } }],
    })
    expect(view).toMatchObject({
      schema: '',
      name: 'big_orders',
      materialized: false,
      definition:
        '{"viewOn":"orders","pipeline":[{"$match":{"total":{"$gt":{"$numberInt":"100"}}}}]}',
      extra: { viewOn: 'orders', collation: null },
    })
  })
})
