// TLS material of a connection (CA, client certificate and key), sealed like its credential.
// Both columns are set or cleared together by the data layer (SQLite cannot add a CHECK to an
// existing table).

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'

export function connectionTlsSchema(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('connections').addColumn('tls_ciphertext', 'text').execute()
      await db.schema.alterTable('connections').addColumn('tls_key_id', 'text').execute()
    },
  }
}
