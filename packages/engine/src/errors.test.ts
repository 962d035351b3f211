import { describe, expect, it } from 'vitest'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from './errors.js'

describe('DbsnapError', () => {
  it('keeps code, cause, retryable and details, and serializes without the cause', () => {
    const cause = new Error('ECONNREFUSED inner')
    const err = new DbsnapError('CONNECTION_REFUSED', 'refused', {
      cause,
      retryable: true,
      details: { port: 1 },
    })
    expect(err).toBeInstanceOf(Error)
    expect(err.cause).toBe(cause)
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'CONNECTION_REFUSED',
      message: 'refused',
      retryable: true,
      details: { port: 1 },
    })
  })

  it('is recognized by shape, so duplicate package copies still match', () => {
    expect(isDbsnapError(new DbsnapError('INTERNAL', 'x'))).toBe(true)
    expect(isDbsnapError({ name: 'DbsnapError', code: 'INTERNAL', message: 'x' })).toBe(true)
    expect(isDbsnapError(new Error('x'))).toBe(false)
    expect(isDbsnapError(null)).toBe(false)
  })

  it('turns an aborted signal into ABORTED with the reason as cause', () => {
    const controller = new AbortController()
    expect(() => throwIfAborted(controller.signal)).not.toThrow()
    controller.abort('stop')
    expect(() => throwIfAborted(controller.signal)).toThrowError(
      expect.objectContaining({ code: 'ABORTED' }) as Error,
    )
    expect(abortError(controller.signal).cause).toBe('stop')
  })
})
