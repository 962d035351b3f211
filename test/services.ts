// The real servers integration tests run against, as provided by test/global-setup.ts.

import { inject } from 'vitest'

export interface TestServices {
  pgUrl: string
  mysqlUrl: string
  mongoUrl: string
  s3: {
    endpoint: string
    bucket: string
    region: string
    accessKeyId: string
    secretAccessKey: string
  }
  /**
   * Servers that refuse connections without TLS, for the "TLS required" errors: a PostgreSQL URL (no
   * `sslmode`; tests add it) and a MySQL/MariaDB URL. Both serve the self-signed certificate in
   * `tlsCaFile` (a PEM file to trust). Null when not provided (e.g. own servers): skip those tests.
   */
  pgTlsUrl: string | null
  mysqlTlsUrl: string | null
  tlsCaFile: string | null
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices
  }
}

/** URLs and credentials of the test services; only callable inside the integration project. */
export function testServices(): TestServices {
  return inject('services')
}

/** `url` with its path replaced by `/database` (query string kept). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.href
}

/** `url` with user and password replaced. */
export function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url)
  parsed.username = encodeURIComponent(user)
  parsed.password = encodeURIComponent(password)
  return parsed.href
}
