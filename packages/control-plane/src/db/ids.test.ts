import { describe, expect, it } from 'vitest'
import { newId } from './ids.js'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newId', () => {
  it('is a UUIDv7 whose first 48 bits are the time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 3, 10, 55, 20, 123)
    const id = newId(now)
    expect(id).toMatch(UUID_V7)
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(now)
  })

  it('sorts in creation order, also within one millisecond and past its counter', () => {
    const now = Date.now()
    const ids = Array.from({ length: 10_000 }, () => newId(now))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    for (const id of ids) expect(id).toMatch(UUID_V7)
  })

  it('never goes back when the clock does', () => {
    const now = Date.now()
    const later = newId(now + 5_000)
    expect(newId(now) > later).toBe(true)
  })
})
