// Opens a source adapter for a connection URL; drivers load lazily so a command touching one
// engine does not pay for loading the others.

import type { ConnectOptions, SourceAdapter } from '../adapters/source-adapter.js'
import type { TargetAdapter } from '../adapters/target-adapter.js'
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

/**
 * Connects to the database a URL names as a restore target.
 *
 * @example
 * const target = await connectTarget('postgres://app@db:5432/shop_copy')
 * try { console.log(await target.inspect([{ schema: 'public', name: 'orders' }])) } finally { await target.close() }
 */
export async function connectTarget(
  url: string | ConnectionTarget,
  options: ConnectOptions = {},
): Promise<TargetAdapter> {
  const target = typeof url === 'string' ? parseConnectionUrl(url) : url
  switch (target.engine) {
    case 'postgres': {
      const { connectPostgresTarget } = await import('../adapters/postgres/postgres-target.js')
      return connectPostgresTarget(target, options)
    }
    case 'mysql': {
      const { connectMysqlTarget } = await import('../adapters/mysql/mysql-target.js')
      return connectMysqlTarget(target, options)
    }
    case 'mongodb': {
      const { connectMongoTarget } = await import('../adapters/mongo/mongo-target.js')
      return connectMongoTarget(target, options)
    }
  }
}
