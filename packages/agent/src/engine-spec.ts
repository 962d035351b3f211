// Turns a leased job into the engine's job spec: the control plane's spec names the connection
// by id and leaves out where the repository is; the agent adds the connection's URL (sent with
// the lease, or resolved here from an `env:`/`file:` reference, so that secret never leaves this
// network) and the repository: the project's setting sent with the lease, else its own. Kinds
// the engine names otherwise are mapped: a restore's connection is its target, and a retention
// job is a forget of the connection's catalogue name followed by a prune.

import { readFile } from 'node:fs/promises'
import type { JobSpec } from '@dbsnap/engine'
import { DbsnapError, parseConnectionUrl } from '@dbsnap/engine/core'
import type { LeasedJob } from './control-plane-client.js'

/** A catalogue name the engine accepts (`<name>@latest~N` reads back). */
const CATALOGUE_NAME = /^[\p{L}\p{N}._-]{1,128}$/u

export interface SpecContext {
  /** The repository of this agent's jobs (DBSNAP_AGENT_REPOSITORY). */
  repository: string | undefined
  env?: Record<string, string | undefined>
}

/** The URL of the job's connection: sent by the control plane, or resolved from its reference. */
export async function connectionUrl(
  connection: NonNullable<LeasedJob['connection']>,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  if (connection.url !== undefined) return connection.url
  const ref = connection.ref ?? ''
  if (ref.startsWith('env:')) {
    const value = env[ref.slice(4)]
    if (value === undefined || value === '') {
      throw new DbsnapError(
        'CONFIG_INVALID',
        `the connection ${connection.name} names ${ref}, which is not set on this agent`,
      )
    }
    return value
  }
  if (ref.startsWith('file:')) {
    try {
      return (await readFile(ref.slice(5), 'utf8')).trim()
    } catch (err) {
      throw new DbsnapError(
        'CONFIG_INVALID',
        `the connection ${connection.name} names ${ref}, which this agent cannot read: ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  throw new DbsnapError('CONFIG_INVALID', `the connection ${connection.name} has no credential`)
}

/** The engine's spec of `leased`. Unknown fields are left for the engine to refuse. */
export async function engineSpec(leased: LeasedJob, context: SpecContext): Promise<JobSpec> {
  const { job, connection } = leased
  const { kind: _kind, connectionId: _connectionId, ...rest } = job.spec
  const source =
    connection === null ? undefined : await connectionUrl(connection, context.env ?? process.env)
  const repository = (): string => {
    const where = leased.repository ?? context.repository
    if (where === undefined) {
      throw new DbsnapError(
        'CONFIG_INVALID',
        `a ${job.kind} job needs a repository: set the project's repository, or DBSNAP_AGENT_REPOSITORY on the agent`,
      )
    }
    return where
  }
  switch (job.kind) {
    case 'snapshot':
      return {
        ...rest,
        kind: 'snapshot',
        repository: repository(),
        create: true,
        source: required(source, job.kind),
        ...(connection !== null &&
        CATALOGUE_NAME.test(connection.name) &&
        rest['name'] === undefined
          ? { name: connection.name }
          : {}),
      }
    case 'diff': {
      // Snapshot ids of the catalogue are the repository's ids; `live: true` is the connection.
      const { live, ...diff } = rest
      return {
        ...diff,
        kind: 'diff',
        repository: repository(),
        ...(live === true ? { live: required(source, job.kind) } : {}),
      } as JobSpec
    }
    case 'connection-test':
      return { ...rest, kind: 'connection-test', source: required(source, job.kind) }
    case 'restore':
      return {
        ...rest,
        kind: 'restore',
        repository: repository(),
        target: required(source, job.kind),
      } as JobSpec
    case 'retention': {
      // The control plane's retention job is the engine's forget with its prune, on one catalogue
      // name: the one a schedule's job names, else the connection's.
      const names = Array.isArray(rest['names'])
        ? (rest['names'] as string[])
        : [catalogueName(connection, required(source, job.kind))]
      return {
        kind: 'forget',
        repository: repository(),
        policy: rest['policy'] as Extract<JobSpec, { kind: 'forget' }>['policy'],
        names,
        prune: true,
        ...(rest['dryRun'] === undefined ? {} : { dryRun: rest['dryRun'] as boolean }),
      }
    }
    default:
      return {
        ...rest,
        kind: job.kind,
        repository: repository(),
        ...(source === undefined ? {} : { source }),
      } as JobSpec
  }
}

/**
 * The catalogue name the connection's snapshots get (as `snapshot` jobs name them): the
 * connection's name when the engine takes it, else the engine's default, the database's name.
 */
function catalogueName(connection: LeasedJob['connection'], source: string): string {
  if (connection !== null && CATALOGUE_NAME.test(connection.name)) return connection.name
  const target = parseConnectionUrl(source)
  return target.database ?? target.user ?? target.host
}

function required(source: string | undefined, kind: string): string {
  if (source === undefined) {
    throw new DbsnapError('INVALID_ARGUMENT', `a ${kind} job needs a connection`)
  }
  return source
}
