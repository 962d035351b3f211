import { describe, expect, it } from 'vitest'
import { printable } from './printable.js'

describe('printable', () => {
  it('shows controls, separators and bidi characters as JSON escapes and leaves the rest', () => {
    expect(printable('evil\u001b[31mred\r')).toBe('evil\\u001b[31mred\\r')
    expect(printable('a\u009b2J\u2028\u202e\u2066\b\t\n')).toBe(
      'a\\u009b2J\\u2028\\u202e\\u2066\\b\\t\\n',
    )
    expect(printable('é → 表 "q" \\ 😀')).toBe('é → 表 "q" \\ 😀')
  })
})
