import { describe, expect, it } from 'vitest'
import { ENGINES, engineModule } from './engines.js'

describe('engine registry', () => {
  it.each([
    ['postgres', 'public', 'postgres'],
    ['mysql', '', 'mysql'],
    ['mongodb', '', null],
  ] as const)('%s: default schema %j, SQL dialect %s', (engine, schema, dialect) => {
    const module = engineModule(engine)
    expect(module.engine).toBe(engine)
    expect(module.defaultSchema).toBe(schema)
    expect(module.sql?.dialect ?? null).toBe(dialect)
    expect(module.timeoutMs).toBeGreaterThan(0)
  })

  it('loads each SQL dialect’s script writer lazily', async () => {
    for (const module of Object.values(ENGINES)) {
      if (module.sql === null) continue
      const script = await module.sql.script()
      expect(typeof script.preData).toBe('function')
    }
  })
})
