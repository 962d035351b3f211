import { describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { testServices, withCredentials } from '../../../test/services.js'

// TLS-only servers come from scripts/services.sh; a suite pointed at other servers
// (DBSNAP_TEST_* set by hand, e.g. docker compose) has none and skips these.
const { pgTlsUrl, mysqlTlsUrl, tlsCaFile } = testServices()

function withParams(url: string, params: Record<string, string>): string {
  const parsed = new URL(url)
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value)
  return parsed.href
}

async function expectError(url: string, code: string): Promise<string> {
  const run = await runCli(['connection', 'test', url, '--json'])
  expect(run.code, run.stdout + run.stderr).toBe(3)
  const { error } = json<{ error: { code: string; message: string } }>(run)
  expect(error.code).toBe(code)
  return error.message
}

describe.skipIf(pgTlsUrl === null)('dbsnap connection test: PostgreSQL that requires TLS', () => {
  const url = pgTlsUrl ?? ''

  it('says TLS is required, and how to ask for it, when the URL does not use TLS', async () => {
    const message = await expectError(url, 'CONNECTION_TLS_REQUIRED')
    expect(message).toContain('sslmode=verify-full')
  })

  it('connects over verified TLS', async () => {
    const run = await runCli([
      'connection',
      'test',
      withParams(url, { sslmode: 'verify-full', sslrootcert: tlsCaFile ?? '' }),
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toMatchObject({ engine: 'postgres', currentUser: 'dbsnap_tls' })
  })

  it('fails certificate verification without the CA', async () => {
    await expectError(withParams(url, { sslmode: 'verify-full' }), 'CONNECTION_TLS_FAILED')
  })

  it('reports a wrong password once TLS is used; without TLS, the missing TLS comes first', async () => {
    const wrong = withCredentials(url, 'dbsnap_tls', 'wrong-secret-pw')
    await expectError(withParams(wrong, { sslmode: 'no-verify' }), 'CONNECTION_AUTH_FAILED')
    // pg_hba refuses the plain connection before any password is checked.
    await expectError(wrong, 'CONNECTION_TLS_REQUIRED')
  })
})

describe.skipIf(mysqlTlsUrl === null)('dbsnap connection test: MariaDB that requires TLS', () => {
  const url = mysqlTlsUrl ?? ''

  it('says TLS is required although the server only answers "access denied"', async () => {
    const message = await expectError(url, 'CONNECTION_TLS_REQUIRED')
    expect(message).toContain('ssl-mode=REQUIRED')
  })

  it('connects with ssl-mode=REQUIRED', async () => {
    const run = await runCli([
      'connection',
      'test',
      withParams(url, { 'ssl-mode': 'REQUIRED' }),
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toMatchObject({ engine: 'mysql', superuser: false })
  })

  it('reports a wrong password as an authentication failure, with or without TLS', async () => {
    const wrong = withCredentials(url, 'dbsnap_tls', 'wrong-secret-pw')
    await expectError(wrong, 'CONNECTION_AUTH_FAILED')
    await expectError(withParams(wrong, { 'ssl-mode': 'REQUIRED' }), 'CONNECTION_AUTH_FAILED')
  })
})
