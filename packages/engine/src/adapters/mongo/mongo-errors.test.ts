import { MongoNetworkError, MongoServerError } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { parseConnectionUrl } from '../../connection/url.js'
import { mongoError, mongoQueryError } from './mongo-errors.js'
import { assertAfter } from './mongo-read.js'

const target = parseConnectionUrl(
  'mongodb://backup:s3cret-pw@db.example:27017/shop?authSource=admin',
)

/** A server error as the driver raises it from a reply document. */
const serverError = (code: number, errmsg: string): MongoServerError =>
  new MongoServerError({ ok: 0, code, errmsg })

describe('mongoQueryError', () => {
  it('names the role to grant when the user is not authorized', () => {
    const err = mongoQueryError(
      serverError(13, 'not authorized on shop to execute command { find: "orders", $db: "shop" }'),
      target,
      { collection: 'orders' },
    )
    expect(err.code).toBe('CONNECTION_PRIVILEGE_MISSING')
    expect(err.message).toContain('grant it the role "read" on "shop"')
    expect(err.message).toContain('"backup" on "admin"')
    expect(err.details.grant).toBe('read on shop')
    // Connecting maps the same server error the same way, not as a failed login.
    expect(
      mongoError(serverError(13, 'not authorized on admin to execute command'), target, 1000).code,
    ).toBe('CONNECTION_PRIVILEGE_MISSING')
  })

  it.each<[string, unknown, string, boolean]>([
    [
      'a dropped connection',
      new MongoNetworkError('connection 3 to db.example:27017 closed'),
      'CONNECTION_LOST',
      true,
    ],
    ['a cursor killed by a drop', serverError(175, 'collection dropped'), 'SOURCE_CHANGED', true],
    ['a cursor gone', serverError(43, 'cursor id 12 not found'), 'SOURCE_CHANGED', true],
    [
      'a snapshot too old',
      serverError(239, 'Read timestamp is older than the oldest available timestamp'),
      'QUERY_FAILED',
      true,
    ],
    [
      'a server timeout',
      serverError(50, 'operation exceeded time limit'),
      'CONNECTION_TIMEOUT',
      true,
    ],
    ['anything else', serverError(2, 'bad value'), 'QUERY_FAILED', false],
  ])('maps %s', (_name, err, code, retryable) => {
    const mapped = mongoQueryError(err, target)
    expect(mapped.code).toBe(code)
    expect(mapped.retryable).toBe(retryable)
  })

  it('never shows the password, even when the server echoes it', () => {
    const mapped = mongoQueryError(serverError(2, 'bad uri mongodb://backup:s3cret-pw@x'), target)
    expect(mapped.message).not.toContain('s3cret-pw')
    expect(JSON.stringify(mapped.toJSON())).not.toContain('s3cret-pw')
  })
})

describe('assertAfter', () => {
  it('accepts ascending _id values across types, and names only types when the order breaks', () => {
    expect(() => assertAfter('{"$numberInt":"2"}', '"a"', 'c')).not.toThrow()
    expect(() => assertAfter('{"$numberDouble":"2.5"}', '{"$numberLong":"3"}', 'c')).not.toThrow()
    let thrown: unknown
    try {
      assertAfter('"secret-value"', '{"$numberInt":"1"}', 'c')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ code: 'QUERY_FAILED' })
    expect((thrown as Error).message).toContain('an _id of type number after string')
    expect((thrown as Error).message).not.toContain('secret-value')
    expect(() => assertAfter('{"$numberInt":"1"}', '{"$numberDouble":"1.0"}', 'c')).toThrow(
      /equal to it/,
    )
  })
})
