import { homedir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  defaultDataDirectory,
  loadControlPlaneConfig,
  metricsSettings,
  rateLimitSettings,
} from './config.js'

describe('loadControlPlaneConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('uses defaults for an empty environment', () => {
    expect(loadControlPlaneConfig({})).toMatchObject({
      DBSNAP_CP_HOST: '127.0.0.1',
      DBSNAP_CP_PORT: 8080,
      DATABASE_URL: {
        dialect: 'sqlite',
        path: join(defaultDataDirectory(), 'control-plane.sqlite'),
      },
      LOG_LEVEL: 'info',
    })
  })

  it.runIf(process.platform === 'linux')(
    'keeps the default SQLite file in the XDG data directory, not the working directory',
    () => {
      vi.stubEnv('XDG_DATA_HOME', '/srv/home/data')
      expect(loadControlPlaneConfig({}).DATABASE_URL).toEqual({
        dialect: 'sqlite',
        path: '/srv/home/data/dbsnap/control-plane/control-plane.sqlite',
      })
      vi.stubEnv('XDG_DATA_HOME', undefined)
      expect(defaultDataDirectory()).toBe(join(homedir(), '.local/share/dbsnap/control-plane'))
    },
  )

  it('raises or lowers the rate limits it is given, keeping their windows', () => {
    expect(rateLimitSettings(loadControlPlaneConfig({}))).toEqual({})
    const config = loadControlPlaneConfig({
      DBSNAP_CP_RATE_LIMIT_PER_USER: '100000',
      DBSNAP_CP_RATE_LIMIT_LOGIN_PER_ACCOUNT: '3',
    })
    expect(rateLimitSettings(config)).toEqual({
      perUser: { hits: 100_000, windowSeconds: 60 },
      loginPerAccount: { hits: 3, windowSeconds: 300 },
    })
    expect(() => loadControlPlaneConfig({ DBSNAP_CP_RATE_LIMIT_AUTH_PER_IP: '0' })).toThrowError(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    )
  })

  it('names every bad variable in one error', () => {
    expect(() =>
      loadControlPlaneConfig({
        DBSNAP_CP_PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://h/db',
      }),
    ).toThrowError(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(
          /3 problems[\s\S]*DBSNAP_CP_PORT[\s\S]*DATABASE_URL|3 problems/,
        ) as string,
        details: {
          variables: expect.arrayContaining([
            'DBSNAP_CP_PORT',
            'LOG_LEVEL',
            'DATABASE_URL',
          ]) as string[],
        },
      }) as Error,
    )
  })
})

describe('DATABASE_URL', () => {
  it.each([
    [
      'postgres://cp@db.internal:5432/cp',
      { dialect: 'postgres', url: 'postgres://cp@db.internal:5432/cp' },
    ],
    ['postgresql://cp@db/cp', { dialect: 'postgres', url: 'postgresql://cp@db/cp' }],
    ['sqlite:/var/lib/dbsnap/cp.sqlite', { dialect: 'sqlite', path: '/var/lib/dbsnap/cp.sqlite' }],
    ['./cp.sqlite', { dialect: 'sqlite', path: './cp.sqlite' }],
    [':memory:', { dialect: 'sqlite', path: ':memory:' }],
  ])('reads %s', (value, expected) => {
    expect(loadControlPlaneConfig({ DATABASE_URL: value }).DATABASE_URL).toEqual(expected)
  })

  it('reads the auth settings, keeping only the origin of the public URL', () => {
    expect(
      loadControlPlaneConfig({
        DBSNAP_JWT_SECRET: 'k'.repeat(32),
        DBSNAP_CP_PUBLIC_URL: 'https://dbsnap.example.com/app/',
        DBSNAP_CP_TRUST_PROXY: 'true',
      }),
    ).toMatchObject({
      DBSNAP_JWT_SECRET: 'k'.repeat(32),
      DBSNAP_CP_PUBLIC_URL: 'https://dbsnap.example.com',
      DBSNAP_CP_TRUST_PROXY: true,
    })
    expect(loadControlPlaneConfig({})).toMatchObject({ DBSNAP_CP_TRUST_PROXY: false })
  })

  it('refuses a short DBSNAP_JWT_SECRET without printing it', () => {
    const secret = 'hunter2-too-short'
    expect(() => loadControlPlaneConfig({ DBSNAP_JWT_SECRET: secret })).toThrowError(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.not.stringContaining(secret) as string,
      }),
    )
  })
})

describe('the metrics settings', () => {
  it('default to an open /metrics and one job per agent, 0 to 10 agents', () => {
    expect(metricsSettings(loadControlPlaneConfig({}))).toEqual({
      desiredAgents: { jobsPerAgent: 1, min: 0, max: 10 },
    })
  })

  it('take a token and the rule, never a max under the min, and refuse a short token unprinted', () => {
    const config = loadControlPlaneConfig({
      DBSNAP_CP_METRICS_TOKEN: 'm'.repeat(24),
      DBSNAP_CP_DESIRED_AGENTS_JOBS_PER_AGENT: '4',
      DBSNAP_CP_DESIRED_AGENTS_MIN: '3',
      DBSNAP_CP_DESIRED_AGENTS_MAX: '2',
    })
    expect(metricsSettings(config)).toEqual({
      token: 'm'.repeat(24),
      desiredAgents: { jobsPerAgent: 4, min: 3, max: 3 },
    })
    expect(() => loadControlPlaneConfig({ DBSNAP_CP_METRICS_TOKEN: 'short-token' })).toThrowError(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.not.stringContaining('short-token') as string,
      }),
    )
  })
})
