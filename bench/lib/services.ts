// Where the benchmarks find PostgreSQL, MySQL, MongoDB and S3: the project's test services
// (`.test-services.env`, written by scripts/services.sh), or DBSNAP_BENCH_PG_URL /
// DBSNAP_BENCH_MYSQL_URL / DBSNAP_BENCH_MONGO_URL / DBSNAP_BENCH_S3 to point elsewhere.

import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function readTestServices(): Record<string, string> {
  const file = `${ROOT}.test-services.env`
  if (!existsSync(file)) return {}
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => [match[1], match[2]])
  return Object.fromEntries(entries) as Record<string, string>
}

const services = readTestServices()

/** The server the benches create their databases on (a superuser connection). */
export const PG_URL =
  process.env.DBSNAP_BENCH_PG_URL ??
  services.DBSNAP_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'

/** The MySQL/MariaDB server the MySQL benches create their databases on (an admin account). */
export const MYSQL_URL =
  process.env.DBSNAP_BENCH_MYSQL_URL ??
  services.DBSNAP_TEST_MYSQL_URL ??
  'mysql://root@127.0.0.1:3306/'

/** The MongoDB server (FerretDB in the test services) the MongoDB bench creates databases on. */
export const MONGO_URL =
  process.env.DBSNAP_BENCH_MONGO_URL ??
  services.DBSNAP_TEST_MONGO_URL ??
  'mongodb://127.0.0.1:27017/'

export interface S3Target {
  /** `s3://bucket/prefix` under which each run makes its own repositories. */
  base: string
  /** The AWS_* variables the dbsnap process needs (endpoint, keys, region). */
  env: NodeJS.ProcessEnv
}

/**
 * The S3 target: DBSNAP_BENCH_S3 (`s3://bucket/prefix`, credentials from the usual AWS_*
 * variables), else the test MinIO; null when there is neither.
 */
export function s3Target(): S3Target | null {
  if (process.env.DBSNAP_BENCH_S3 !== undefined) {
    return { base: process.env.DBSNAP_BENCH_S3.replace(/\/+$/, ''), env: {} }
  }
  const bucket = services.DBSNAP_TEST_S3_BUCKET
  if (bucket === undefined) return null
  return {
    base: `s3://${bucket}/bench`,
    env: {
      AWS_ENDPOINT_URL_S3: services.DBSNAP_TEST_S3_ENDPOINT,
      AWS_ACCESS_KEY_ID: services.DBSNAP_TEST_S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: services.DBSNAP_TEST_S3_SECRET_ACCESS_KEY,
      AWS_REGION: services.DBSNAP_TEST_S3_REGION,
    },
  }
}
