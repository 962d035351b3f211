// Opens a source adapter or a restore target for a connection URL, through the engine registry
// (adapters/engines.ts), which loads only the driver of the URL's engine.

import { engineModule } from './engines.js'
import type { ConnectOptions, SourceAdapter } from './source-adapter.js'
import type { TargetAdapter } from './target-adapter.js'
import { parseConnectionUrl, type ConnectionTarget } from '../connection/url.js'

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
  return engineModule(target.engine).connectSource(target, options)
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
  return engineModule(target.engine).connectTarget(target, options)
}
