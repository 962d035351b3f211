import { describe, expect, it } from 'vitest'
import { loadAgentConfig, stateDir } from './config.js'

describe('loadAgentConfig', () => {
  it('has defaults for everything', () => {
    expect(loadAgentConfig({})).toMatchObject({
      DBSNAP_AGENT_CONCURRENCY: 1,
      DBSNAP_AGENT_DRAIN_SECONDS: 60,
      DBSNAP_AGENT_HEALTH_PORT: 8081,
      DBSNAP_AGENT_AUTOSCALE_IDLE_SECONDS: 60,
      LOG_LEVEL: 'info',
    })
    expect(loadAgentConfig({}).DBSNAP_AGENT_AUTOSCALE).toBeUndefined()
  })

  it('names every invalid variable', () => {
    expect(() =>
      loadAgentConfig({ DBSNAP_AGENT_CONCURRENCY: '0', DBSNAP_AGENT_HEALTH_PORT: '-1' }),
    ).toThrowError(/DBSNAP_AGENT_CONCURRENCY[\s\S]*DBSNAP_AGENT_HEALTH_PORT/)
  })

  it('keeps its state under XDG_STATE_HOME unless told where', () => {
    expect(stateDir({}, { XDG_STATE_HOME: '/var/state' })).toBe('/var/state/dbsnap/agent')
    expect(stateDir({ DBSNAP_AGENT_STATE_DIR: '/etc/agent' }, {})).toBe('/etc/agent')
  })
})
