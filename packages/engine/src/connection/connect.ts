// Opens a source adapter for a connection URL; drivers load lazily so a command touching one
// engine does not pay for loading the others.

import type { ConnectOptions, SourceAdapter } from '../adapters/source-adapter.js'
import { parseConnectionUrl, type ConnectionTarget } from './url.js'

/**
 * Connects to the database a URL names.
 *
 * @example
 * const source = await connect('postgres://backup@db:5432/shop', { timeoutMs: 5000 })
 * try { console.log(await source.describe()) } finally { await source.close() }
 */
export async function connect(
  url: string | ConnectionTarget,
  options: ConnectOptions = {},
): Promise<SourceAdapter> {
  const target = typeof url === 'string' ? parseConnectionUrl(url) : url
  switch (target.engine) {
    case 'postgres': {
      const { connectPostgres } = await import('../adapters/postgres/postgres-adapter.js')
      return connectPostgres(target, options)
    }
    case 'mysql': {
      const { connectMysql } = await import('../adapters/mysql/mysql-adapter.js')
      return connectMysql(target, options)
    }
    case 'mongodb': {
      const { connectMongo } = await import('../adapters/mongo/mongo-adapter.js')
      return connectMongo(target, options)
    }
  }
}
