import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { parseEnv } from './env.js'

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65_535).default(8080),
  URL: z.url(),
  TOKEN: z.string().min(8),
})

describe('parseEnv', () => {
  it('returns typed settings with defaults; an empty variable counts as unset', () => {
    expect(parseEnv(schema, { PORT: '', URL: 'https://x', TOKEN: '12345678' })).toEqual({
      PORT: 8080,
      URL: 'https://x',
      TOKEN: '12345678',
    })
  })

  it('names every bad variable at once, without their values', () => {
    let err: unknown
    try {
      parseEnv(schema, { PORT: '0', TOKEN: 'sekret' })
    } catch (caught) {
      err = caught
    }
    expect(err).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { variables: ['PORT', 'URL', 'TOKEN'] },
    })
    const message = (err as Error).message
    expect(message).toMatch(/^invalid configuration \(3 problems\):/)
    expect(message).toMatch(/\n {2}URL: is required/)
    expect(message).toMatch(/\n {2}PORT: /)
    expect(message).not.toContain('sekret')
  })
})
