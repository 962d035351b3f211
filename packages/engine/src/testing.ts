// `@dbsnap/engine/testing`: storages for tests (in memory, fault-injecting) and the conformance
// suite every Storage passes. The suite registers vitest cases: import it from test files only.

export { MemoryStorage } from './storage/memory/memory-storage.js'
export { FaultyStorage } from './storage/faulty/faulty-storage.js'
export type { Fault, FaultEffect, FaultMethod } from './storage/faulty/faulty-storage.js'
export { describeStorageConformance } from './storage/storage-conformance.js'
export type { ConformanceOptions, ConformanceSubject } from './storage/storage-conformance.js'
