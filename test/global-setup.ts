// Integration tests need real servers. Their URLs come from the environment (DBSNAP_TEST_*);
// whatever is missing is started by scripts/services.sh, which writes .test-services.env.
// The TLS-only servers (DBSNAP_TEST_PG_TLS_URL, DBSNAP_TEST_MYSQL_TLS_URL, DBSNAP_TEST_TLS_CA_FILE)
// are optional: tests that need them skip when they are absent.

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import type { TestServices } from './services.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const envFile = `${root}.test-services.env`

const REQUIRED = [
  'DBSNAP_TEST_PG_URL',
  'DBSNAP_TEST_MYSQL_URL',
  'DBSNAP_TEST_MONGO_URL',
  'DBSNAP_TEST_S3_ENDPOINT',
] as const

export default function setup(project: TestProject): void {
  const missing = REQUIRED.filter((name) => !process.env[name])
  if (missing.length > 0 && process.env['DBSNAP_TEST_NO_SERVICES'] !== '1') {
    execFileSync('bash', [`${root}scripts/services.sh`, 'up'], { stdio: 'inherit' })
  }
  if (existsSync(envFile)) {
    for (const [key, value] of parseEnvFile(readFileSync(envFile, 'utf8'))) {
      process.env[key] ??= value
    }
  }
  const still = REQUIRED.filter((name) => !process.env[name])
  if (still.length > 0) {
    throw new Error(
      `integration tests need ${still.join(', ')}: run scripts/services.sh up or set them`,
    )
  }
  const env = (name: string): string => process.env[name] ?? ''
  const optional = (name: string): string | null => env(name) || null
  const services: TestServices = {
    pgUrl: env('DBSNAP_TEST_PG_URL'),
    mysqlUrl: env('DBSNAP_TEST_MYSQL_URL'),
    mongoUrl: env('DBSNAP_TEST_MONGO_URL'),
    s3: {
      endpoint: env('DBSNAP_TEST_S3_ENDPOINT'),
      bucket: env('DBSNAP_TEST_S3_BUCKET') || 'dbsnap-test',
      region: env('DBSNAP_TEST_S3_REGION') || 'us-east-1',
      accessKeyId: env('DBSNAP_TEST_S3_ACCESS_KEY_ID'),
      secretAccessKey: env('DBSNAP_TEST_S3_SECRET_ACCESS_KEY'),
    },
    pgTlsUrl: optional('DBSNAP_TEST_PG_TLS_URL'),
    mysqlTlsUrl: optional('DBSNAP_TEST_MYSQL_TLS_URL'),
    tlsCaFile: optional('DBSNAP_TEST_TLS_CA_FILE'),
  }
  project.provide('services', services)
}

function parseEnvFile(text: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && line.includes('='))
    .map((line) => {
      const at = line.indexOf('=')
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()]
    })
}
