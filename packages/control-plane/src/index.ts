// Public API of the control plane package: the app factory, its database (open and migrate),
// and its errors (and, later, its typed RPC client).

export { createApp } from './app.js'
export type { AppDeps, ControlPlaneApp } from './app.js'
export { loadControlPlaneConfig } from './config.js'
export type { ControlPlaneConfig } from './config.js'
export { openDatabase, parseDatabaseUrl } from './db/database.js'
export type { ControlPlaneDb, DatabaseLocation, DialectName } from './db/database.js'
export { migrate } from './db/migrate.js'
export type { MigrateOptions, MigrateResult } from './db/migrate.js'
export { ControlPlaneError, ControlPlaneErrorCode } from './errors.js'
