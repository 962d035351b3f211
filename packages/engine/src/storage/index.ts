// The storage layer: the Storage interface, its implementations (local directory, S3, memory),
// the fault-injecting wrapper for tests, and openStorage to pick one from a location.

export { bytesSource } from './storage.js'
export type {
  ByteSource,
  GetOptions,
  ObjectInfo,
  PutOptions,
  Storage,
  StorageCallOptions,
} from './storage.js'
export { assertValidKey, assertValidPrefix, isValidKey } from './keys.js'
export { openStorage } from './open-storage.js'
export type { OpenStorageOptions } from './open-storage.js'
export { FsStorage } from './fs/fs-storage.js'
export type { FsStorageOpenOptions, TemporaryFile } from './fs/fs-storage.js'
export { S3Storage, parseS3Url } from './s3/s3-storage.js'
export type { S3Location, S3StorageOptions } from './s3/s3-storage.js'
export { MemoryStorage } from './memory/memory-storage.js'
export { FaultyStorage } from './faulty/faulty-storage.js'
export type { Fault, FaultEffect, FaultMethod } from './faulty/faulty-storage.js'
