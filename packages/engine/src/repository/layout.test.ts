import { describe, expect, it } from 'vitest'
import { assertValidKey, assertValidPrefix } from '../storage/keys.js'
import * as layout from './layout.js'

const id = 'ab'.repeat(32)

describe('the repository layout', () => {
  it('spells keys every storage accepts, none under the reserved tmp/', () => {
    const prefixes = Object.entries(layout)
      .filter(([name]) => name.endsWith('_PREFIX'))
      .map(([, value]) => value as string)
    expect(prefixes.sort()).toEqual(['chunks/', 'diffs/', 'diffs/blocks/', 'locks/', 'snapshots/'])
    for (const prefix of prefixes) expect(() => assertValidPrefix(prefix)).not.toThrow()
    const keys = [
      layout.CONFIG_KEY,
      layout.objectKey(id),
      layout.manifestKey(id),
      layout.lockKey('mf3k2-0011223344556677'),
      layout.savedDiffKey(id),
      layout.diffBlockKey(id),
    ]
    for (const key of keys) expect(() => assertValidKey(key)).not.toThrow()
    expect(keys.some((key) => key.startsWith('tmp/'))).toBe(false)
  })

  it('fans objects out by their first byte and gives the id back from any key', () => {
    expect(layout.objectKey(id)).toBe(`chunks/ab/${id}`)
    expect(layout.diffBlockKey(id)).toBe(`diffs/blocks/${id}`)
    for (const key of [layout.objectKey(id), layout.manifestKey(id), layout.diffBlockKey(id)]) {
      expect(layout.idOfKey(key)).toBe(id)
    }
  })
})
