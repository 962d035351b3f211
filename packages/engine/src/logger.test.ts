import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'
import { currentTraceId, newTraceId, withTraceId } from './trace.js'

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    },
  })
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { lines, stream }
}

describe('logger', () => {
  it('adds the trace id of the operation to every line, across awaits and child loggers', async () => {
    const { lines, stream } = capture()
    const logger = createLogger({ name: 'test', destination: stream, format: 'json' })
    const traceId = newTraceId()
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    await withTraceId(traceId, async () => {
      logger.info('before')
      await new Promise((resolve) => setTimeout(resolve, 1))
      logger.child({ table: 'public.orders' }).info('after')
      expect(currentTraceId()).toBe(traceId)
    })
    logger.info('outside')
    const [before, after, outside] = lines()
    expect(before).toMatchObject({ name: 'test', msg: 'before', traceId })
    expect(after).toMatchObject({ msg: 'after', table: 'public.orders', traceId })
    expect(outside).not.toHaveProperty('traceId')
  })

  it('redacts secrets whatever object they arrive in', () => {
    const { lines, stream } = capture()
    const logger = createLogger({ name: 'test', destination: stream, format: 'json' })
    logger.info(
      {
        password: 'p1',
        conn: { password: 'p2', host: 'h' },
        req: { headers: { authorization: 'Bearer t' } },
      },
      'x',
    )
    const text = JSON.stringify(lines())
    expect(text).not.toMatch(/p1|p2|Bearer t/)
    expect(text).toContain('"host":"h"')
  })
})

describe('the readable (pretty) log', () => {
  it('prints names and server messages with their control characters escaped', () => {
    const chunks: string[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString())
        done()
      },
    })
    const logger = createLogger({ name: 'test', destination: stream, format: 'pretty' })
    const err = new Error('relation "x\u001b]0;pwned\u0007" does not exist\nINFO: all good')
    logger.info({ table: 'public.evil\u001b[31mred\u202e', 'key\r': 'v\u009b2J' }, 'at\nINFO: fake')
    logger.error({ err }, 'failed on \u001b[2Jpublic.x')
    // What is left once the colors pino-pretty adds itself are gone: no control character but
    // the newlines that end lines and lay out a stack.
    const text = chunks.join('').replace(/\p{Cc}\[[0-9;]*m/gu, '')
    expect(text).toContain('public.evil\\u001b[31mred\\u202e')
    expect(text).toContain('key\\r')
    expect(text).toContain('v\\u009b2J')
    expect(text).toContain('at\\nINFO: fake')
    expect(text).toContain('failed on \\u001b[2Jpublic.x')
    expect(text).toContain('x\\u001b]0;pwned\\u0007')
    expect(text).not.toMatch(/(?!\n)[\p{Cc}\u2028\u2029\u202a-\u202e]/u)
    expect(text.split('\n').filter((line) => /^\S/.test(line))).toHaveLength(2)
  })
})
