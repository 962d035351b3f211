import { describe, expect, it } from 'vitest'
import { loadAgentConfig } from './config.js'

describe('loadAgentConfig', () => {
  it('reads a complete environment', () => {
    const config = loadAgentConfig({
      DBSNAP_CONTROL_PLANE_URL: 'https://cp.example.com',
      DBSNAP_AGENT_TOKEN: 'x'.repeat(32),
    })
    expect(config).toMatchObject({ DBSNAP_AGENT_HEALTH_PORT: 8081, LOG_LEVEL: 'info' })
  })

  it('names every missing or invalid variable and never echoes the token', () => {
    let message = ''
    try {
      loadAgentConfig({ DBSNAP_AGENT_TOKEN: 'short-secret', DBSNAP_AGENT_HEALTH_PORT: '-1' })
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' })
      message = (err as Error).message
    }
    expect(message).toMatch(/DBSNAP_CONTROL_PLANE_URL: is required/)
    expect(message).toMatch(/DBSNAP_AGENT_TOKEN: must be at least 16 characters/)
    expect(message).toMatch(/DBSNAP_AGENT_HEALTH_PORT/)
    expect(message).not.toContain('short-secret')
  })

  it('rejects a control plane URL that is not http(s)', () => {
    expect(() =>
      loadAgentConfig({ DBSNAP_CONTROL_PLANE_URL: 'ftp://cp', DBSNAP_AGENT_TOKEN: 'x'.repeat(32) }),
    ).toThrowError(/DBSNAP_CONTROL_PLANE_URL: must be an http\(s\) URL/)
  })
})
