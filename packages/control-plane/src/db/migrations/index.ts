// Every migration, by name. Names sort in the order they run (Kysely's Migrator sorts them) and
// are never renamed: the database records them, and a name it has that is not here means the
// database was migrated by a newer version of the control plane.

import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { initialSchema } from './0001-initial.js'
import { rateLimitsSchema } from './0002-rate-limits.js'
import { instanceSetupSchema } from './0003-instance-setup.js'
import { connectionTlsSchema } from './0004-connection-tls.js'
import { jobQueueSchema } from './0005-job-queue.js'
import { snapshotCatalogueSchema } from './0006-snapshot-catalogue.js'
import { schedulesSchema } from './0007-schedules.js'
import { diffsSchema } from './0008-diffs.js'
import { projectRepositorySchema } from './0009-project-repository.js'
import { diffTableColumnsSchema } from './0010-diff-table-columns.js'

export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-initial': initialSchema(dialect),
    '0002-rate-limits': rateLimitsSchema(dialect),
    '0003-instance-setup': instanceSetupSchema(dialect),
    '0004-connection-tls': connectionTlsSchema(),
    '0005-job-queue': jobQueueSchema(dialect),
    '0006-snapshot-catalogue': snapshotCatalogueSchema(dialect),
    '0007-schedules': schedulesSchema(dialect),
    '0008-diffs': diffsSchema(dialect),
    '0009-project-repository': projectRepositorySchema(dialect),
    '0010-diff-table-columns': diffTableColumnsSchema(),
  }
}
