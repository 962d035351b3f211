import { describe, expect, it } from 'vitest'
import { readViewMode, type MongoServerTraits } from './mongo-source.js'

const replicaSet: MongoServerTraits = {
  ferretdb: false,
  replicated: true,
  wireVersion: 21,
  readConcernLevel: null,
}

describe('readViewMode', () => {
  it('uses a snapshot session on a replica set or sharded cluster of MongoDB 5.0+', () => {
    expect(readViewMode(replicaSet)).toEqual({ snapshot: true })
    expect(readViewMode({ ...replicaSet, wireVersion: 13 })).toEqual({ snapshot: true })
    expect(readViewMode({ ...replicaSet, readConcernLevel: 'snapshot' })).toEqual({
      snapshot: true,
    })
  })

  it.each<[string, Partial<MongoServerTraits>, RegExp]>([
    ['FerretDB', { ferretdb: true, replicated: false }, /^FerretDB has no snapshot reads/],
    ['a standalone mongod', { replicated: false }, /^a standalone mongod has no snapshot reads/],
    ['MongoDB 4.4', { wireVersion: 9 }, /^MongoDB before 5\.0/],
    [
      'readConcernLevel=majority in the URL',
      { readConcernLevel: 'majority' },
      /readConcernLevel=majority/,
    ],
  ])('says why not on %s', (_name, traits, reason) => {
    const mode = readViewMode({ ...replicaSet, ...traits })
    expect(mode.snapshot).toBe(false)
    if (!mode.snapshot) {
      expect(mode.warning).toMatch(reason)
      expect(mode.warning).toContain('collections are read one after another')
    }
  })
})
