// PostgreSQL through psql: the bench's own database (created at the start, dropped at the end),
// statements, sizes and the COPY floor.

import { run } from './run.ts'
import { PG_URL } from './services.ts'

/** The URL of database `name` on the bench server. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** Runs SQL (one or more statements, stopping at the first error); returns psql's -At output. */
export async function psql(url: string, sql: string): Promise<string> {
  const args = ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql]
  return (await run('psql', args)).stdout.trim()
}

/** Creates an empty database `name` (dropping an interrupted run's leftover); returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  await dropDatabase(name)
  await psql(PG_URL, `CREATE DATABASE ${name}`)
  return databaseUrl(name)
}

export async function dropDatabase(name: string): Promise<void> {
  await psql(PG_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
}

/** Bytes of a table as PostgreSQL stores it: heap + TOAST (pg_table_size), and with its indexes. */
export async function tableSize(
  url: string,
  table: string,
): Promise<{ heap: number; total: number }> {
  const out = await psql(
    url,
    `SELECT pg_table_size('${table}'), pg_total_relation_size('${table}')`,
  )
  const [heap = '0', total = '0'] = out.split('|')
  return { heap: Number(heap), total: Number(total) }
}

export async function serverVersion(url: string): Promise<string> {
  return psql(url, 'SHOW server_version')
}

/** `psql -c "COPY t TO STDOUT" > /dev/null`: the floor of reading a table out; seconds. */
export async function copyToDevNull(url: string, table: string): Promise<number> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `COPY ${table} TO STDOUT`]
  return (await run('psql', args, { stdout: 'ignore' })).seconds
}
