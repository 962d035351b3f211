import { describe, expect, it } from 'vitest'
import { parseDuration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    ['10', 10_000],
    ['0.5', 500],
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['2w', 1_209_600_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', 'soon', '10 s', '-5s', '5x', 's'])('rejects %j with INVALID_ARGUMENT', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    )
  })
})
