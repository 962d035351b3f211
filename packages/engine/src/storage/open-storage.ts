// Turns a repository location as users write it (a path, a file:// URL, an s3:// URL) into the
// Storage that serves it.

import { fileURLToPath } from 'node:url'
import { DbsnapError } from '../errors.js'
import { FsStorage } from './fs/fs-storage.js'
import type { S3StorageOptions } from './s3/s3-storage.js'
import type { Storage } from './storage.js'

export interface OpenStorageOptions {
  /** Local directories only: create the directory (and its parents) when missing. */
  create?: boolean
  /** Settings for `s3://` locations; the AWS environment and config files fill the rest. */
  s3?: S3StorageOptions
}

/**
 * The Storage at `location`:
 * - `s3://bucket/prefix` → `S3Storage` (no I/O yet: errors come with the first operation);
 * - `file:///path` or a path, relative to the working directory → `FsStorage`, after checking
 *   that the directory exists (`STORAGE_LOCATION_NOT_FOUND` otherwise, unless `create`).
 * Other `scheme://` URLs are rejected with `INVALID_ARGUMENT` rather than taken as paths.
 *
 * @example
 * const storage = await openStorage('s3://backups/dbsnap/prod')
 * const local = await openStorage('./repo', { create: true })
 */
export async function openStorage(
  location: string,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  if (location === '') {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      'expected a repository location (a directory or s3://bucket/prefix), got ""',
    )
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase()
  if (scheme === 's3') {
    // The AWS SDK is large; only repositories on S3 pay for loading it.
    const { S3Storage } = await import('./s3/s3-storage.js')
    return new S3Storage(location, options.s3)
  }
  if (scheme === 'file') {
    let path: string
    try {
      path = fileURLToPath(location)
    } catch (err) {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `expected a file URL like file:///path/to/repo, got "${location}"`,
        { cause: err },
      )
    }
    return FsStorage.open(path, { create: options.create })
  }
  if (scheme !== undefined) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a directory, file:// or s3:// location, got a ${scheme}:// URL`,
    )
  }
  return FsStorage.open(location, { create: options.create })
}
