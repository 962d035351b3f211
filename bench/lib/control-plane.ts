// The control plane as the benches run it: the built service, on a fresh SQLite file or a fresh
// PostgreSQL database, with its rate limits out of the way.

import { randomBytes } from 'node:crypto'
import { callApi, signUp } from '../../test/processes.ts'
import { createDatabase } from './postgres.ts'
import { ROOT } from './services.ts'

/** The built service: what `npm run bench:*` builds first. */
export const CP_BIN = `${ROOT}packages/control-plane/bin/dbsnap-control-plane.js`

/** Far above what a bench sends, so the limits count every request but never refuse one. */
const NO_LIMIT = '100000000'

/** Settings that raise every rate limit out of a bench's way. */
export const UNLIMITED_RATES = {
  DBSNAP_CP_RATE_LIMIT_PER_USER: NO_LIMIT,
  DBSNAP_CP_RATE_LIMIT_AUTH_PER_IP: NO_LIMIT,
  DBSNAP_CP_RATE_LIMIT_LOGIN_PER_ACCOUNT: NO_LIMIT,
}

/**
 * The settings of a fresh control-plane database: a SQLite file in `dir`, or the PostgreSQL
 * database `database` (created, a leftover dropped; the caller drops it) with its secrets.
 */
export async function databaseSettings(
  dialect: 'sqlite' | 'postgres',
  dir: string,
  database: string,
): Promise<Record<string, string>> {
  if (dialect === 'sqlite') return { DATABASE_URL: `sqlite:${dir}/control-plane.sqlite` }
  return {
    DATABASE_URL: await createDatabase(database),
    DBSNAP_JWT_SECRET: randomBytes(48).toString('base64'),
    DBSNAP_SECRET_KEY: randomBytes(32).toString('base64'),
  }
}

/** A signed-in user's API calls, a project of one organisation, and a connection in it. */
export interface BenchProject {
  /** The user's access token, for requests made without `call`. */
  token: string
  call: (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>
  projectPath: string
  connectionId: string
}

/**
 * Signs the first user up on a fresh control plane at `base`, then creates the organisation
 * "Bench", a project and a connection: where every bench that drives the API starts.
 */
export async function benchProject(
  base: string,
  project: { name: string; slug: string },
  connection: { name: string; url: string },
): Promise<BenchProject> {
  const token = await signUp(base)
  const call = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)
  const org = await call('POST', '/orgs', { name: 'Bench', slug: 'bench' })
  const made = await call('POST', `/orgs/${org['id'] as string}/projects`, project)
  const projectPath = `/orgs/${org['id'] as string}/projects/${made['id'] as string}`
  const { id } = await call('POST', `${projectPath}/connections`, connection)
  return { token, call, projectPath, connectionId: id as string }
}
