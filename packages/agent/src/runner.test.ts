import { DbsnapError } from '@dbsnap/engine/core'
import { describe, expect, it } from 'vitest'
import { compact, failureOf } from './runner.js'

describe('failureOf', () => {
  it('keeps an engine error’s code and retryability, and a bug’s stack', () => {
    expect(
      failureOf(new DbsnapError('CONNECTION_REFUSED', 'refused', { retryable: true }), undefined),
    ).toEqual({
      code: 'CONNECTION_REFUSED',
      message: 'refused',
      retryable: true,
    })
    const bug = failureOf(new TypeError('x is undefined'), undefined)
    expect(bug).toMatchObject({ code: 'INTERNAL', retryable: false })
    expect(bug.stack).toContain('TypeError')
  })
})

describe('compact', () => {
  it('sends a small result whole and a big one as a summary', () => {
    expect(compact({ id: 'a', tables: [1, 2] })).toEqual({ id: 'a', tables: [1, 2] })
    const big = { id: 'a', tables: Array.from({ length: 5000 }, (_, i) => ({ name: `t${i}` })) }
    expect(compact(big)).toEqual({ truncated: true, id: 'a', tablesCount: 5000 })
  })
})
