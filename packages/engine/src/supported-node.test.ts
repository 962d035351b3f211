import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { NODE_MINIMUM, unsupportedNode } from './supported-node.js'

describe('supported Node.js', () => {
  it('is what every package.json says in engines.node', () => {
    const { major, minor } = NODE_MINIMUM
    for (const pkg of ['../../..', '..', '../../cli', '../../agent', '../../control-plane']) {
      const { engines } = JSON.parse(
        readFileSync(new URL(`${pkg}/package.json`, import.meta.url), 'utf8'),
      ) as { engines: { node: string } }
      expect(engines.node, pkg).toBe(`>=${major}.${minor}.0`)
    }
  })

  it('turns away older versions only', () => {
    expect(unsupportedNode('20.20.2')).toBe(
      'needs Node.js 22.12 or newer, and this is Node.js v20.20.2',
    )
    expect(unsupportedNode('22.11.9')).not.toBeNull()
    expect(unsupportedNode('18.0.0')).not.toBeNull()
    expect(unsupportedNode('22.12.0')).toBeNull()
    expect(unsupportedNode('22.20.1')).toBeNull()
    expect(unsupportedNode('24.0.0')).toBeNull()
    expect(unsupportedNode('30.1.0')).toBeNull()
  })
})
