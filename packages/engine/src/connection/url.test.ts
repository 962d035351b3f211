import { describe, expect, it } from 'vitest'
import { isDbsnapError } from '../errors.js'
import { parseConnectionUrl, redactUrl } from './url.js'

describe('parseConnectionUrl', () => {
  it.each([
    ['postgres://u:p@h:6543/db', 'postgres', 'h', 6543, 'db'],
    ['postgresql://h/db', 'postgres', 'h', 5432, 'db'],
    ['mysql://root@127.0.0.1/', 'mysql', '127.0.0.1', 3306, null],
    ['mariadb://root@[::1]:3307/shop', 'mysql', '::1', 3307, 'shop'],
    ['mongodb://u:p@h/app?authSource=admin', 'mongodb', 'h', 27017, 'app'],
    ['mongodb+srv://cluster.example.com/app', 'mongodb', 'cluster.example.com', 27017, 'app'],
    ['postgres://h/my%20db', 'postgres', 'h', 5432, 'my db'],
  ])('%s', (input, engine, host, port, database) => {
    const target = parseConnectionUrl(input)
    expect(target).toMatchObject({ engine, host, port, database })
  })

  it('reads a MongoDB seed list', () => {
    const target = parseConnectionUrl(
      'mongodb://u:p@a.example:27017,b.example:27018,[::1]/app?replicaSet=rs0',
    )
    expect(target.hosts).toEqual([
      { host: 'a.example', port: 27017 },
      { host: 'b.example', port: 27018 },
      { host: '::1', port: 27017 },
    ])
    expect(target).toMatchObject({ host: 'a.example', database: 'app', user: 'u', password: 'p' })
    expect(target.params.get('replicaSet')).toBe('rs0')
  })

  it('decodes user and password', () => {
    const target = parseConnectionUrl('postgres://app%40x:p%3As%40ss@h/db')
    expect(target.user).toBe('app@x')
    expect(target.password).toBe('p:s@ss')
  })

  it.each([
    ['not a url', 'CONNECTION_URL_INVALID'],
    ['postgres://', 'CONNECTION_URL_INVALID'],
    ['postgres://h:99999/db', 'CONNECTION_URL_INVALID'],
    ['redis://localhost:6379', 'CONNECTION_SCHEME_UNSUPPORTED'],
    ['http://u:secret@host/db', 'CONNECTION_SCHEME_UNSUPPORTED'],
    ['postgres://u:%zz@h/db', 'CONNECTION_URL_INVALID'],
    ['mongodb://u:secret@a:1,b:999999/db', 'CONNECTION_URL_INVALID'],
  ])('rejects %s with %s and no password in the message', (input, code) => {
    let caught: unknown
    try {
      parseConnectionUrl(input)
    } catch (err) {
      caught = err
    }
    expect(isDbsnapError(caught)).toBe(true)
    expect((caught as { code: string }).code).toBe(code)
    expect((caught as Error).message).not.toMatch(/secret|%zz/)
  })
})

describe('redactUrl', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/shop', 'postgres://app:****@db:5432/shop'],
    ['postgres://app@db/shop', 'postgres://app@db/shop'],
    ['mysql://:pw@db/x', 'mysql://:****@db/x'],
    [
      'postgres://db/x?password=s3cret&sslmode=require',
      'postgres://db/x?password=****&sslmode=require',
    ],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected)
  })

  it('redacts a password in text that is not a URL', () => {
    expect(redactUrl('postgres://u:p@ss w0rd@h/db')).not.toContain('p@ss')
  })
})
