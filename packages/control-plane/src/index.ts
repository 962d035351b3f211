// Public API of the control plane package: the app factory (and, later, its typed RPC client).

export { createApp } from './app.js'
export type { AppDeps, ControlPlaneApp } from './app.js'
export { loadControlPlaneConfig } from './config.js'
export type { ControlPlaneConfig } from './config.js'
export { openDatabase } from './db.js'
