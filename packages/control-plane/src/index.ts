// Public API of the control plane package: the app factory, its database (open and migrate),
// its errors, and the typed RPC client of its API.

export { createApp } from './app.js'
export { createClient } from './client.js'
export type { ControlPlaneClient } from './client.js'
export type { AppDeps, ControlPlaneApp } from './app.js'
export { loadControlPlaneConfig } from './config.js'
export type { ControlPlaneConfig } from './config.js'
export { openDatabase, parseDatabaseUrl } from './db/database.js'
export type { ControlPlaneDb, DatabaseLocation, DialectName } from './db/database.js'
export { migrate } from './db/migrate.js'
export type { MigrateOptions, MigrateResult } from './db/migrate.js'
export { ControlPlaneError, ControlPlaneErrorCode } from './errors.js'
