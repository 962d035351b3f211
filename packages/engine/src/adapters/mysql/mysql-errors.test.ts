import { describe, expect, it } from 'vitest'
import { parseConnectionUrl } from '../../connection/url.js'
import { mysqlQueryError } from './mysql-errors.js'

describe('mysqlQueryError', () => {
  const target = parseConnectionUrl('mysql://backup:s3cret-pw@db.example:3306/shop')
  const serverError = (code: string, errno: number, message: string): Error =>
    Object.assign(new Error(message), { code, errno })

  it.each([
    ['ER_NO_SUCH_TABLE', 1146, 'SOURCE_CHANGED', true],
    ['ER_TABLE_DEF_CHANGED', 1412, 'SOURCE_CHANGED', true],
    ['ER_BAD_FIELD_ERROR', 1054, 'SOURCE_CHANGED', true],
    ['ER_LOCK_WAIT_TIMEOUT', 1205, 'SOURCE_CHANGED', true],
    ['ER_TABLEACCESS_DENIED_ERROR', 1142, 'CONNECTION_PRIVILEGE_MISSING', false],
    ['ER_CONNECTION_KILLED', 1927, 'CONNECTION_LOST', true],
    ['PROTOCOL_CONNECTION_LOST', 0, 'CONNECTION_LOST', true],
    ['ER_STATEMENT_TIMEOUT', 1969, 'CONNECTION_TIMEOUT', true],
    ['ER_LOCK_DEADLOCK', 1213, 'QUERY_FAILED', true],
    ['ER_PARSE_ERROR', 1064, 'QUERY_FAILED', false],
  ])('%s -> %s', (code, errno, expected, retryable) => {
    const error = mysqlQueryError(serverError(code, errno, `failed for s3cret-pw`), target, {
      table: '`orders`',
    })
    expect(error).toMatchObject({ code: expected, retryable })
    expect(error.details).toMatchObject({ table: '`orders`', serverCode: code })
    expect(error.message).not.toContain('s3cret-pw')
  })

  it('treats a reset socket as a lost connection', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', fatal: true })
    expect(mysqlQueryError(reset, target)).toMatchObject({ code: 'CONNECTION_LOST' })
  })
})
