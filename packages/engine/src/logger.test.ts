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
