// The `--repo` flag shared by every command that reads or writes snapshots, and how it opens.

import { homedir } from 'node:os'
import { join } from 'node:path'
import * as Flags from '@oclif/core/flags'
import { DbsnapError, Repository, openStorage, type CodecSpec } from '@dbsnap/engine'

export const repoFlag = Flags.string({
  description:
    'repository: a directory or s3://bucket/prefix [env: DBSNAP_REPO; default: ~/.local/share/dbsnap/repo]',
  helpValue: '<path|s3://bucket/prefix>',
})

/**
 * `--repo`, then DBSNAP_REPO, then the per-user default directory. An empty `--repo` or
 * DBSNAP_REPO is a usage error: most likely an unset shell variable, and the default repository
 * is not what was meant.
 */
export function repositoryLocation(flag: string | undefined, env: string | undefined): string {
  const expected = 'a directory or s3://bucket/prefix, got an empty value'
  if (flag === '') throw new DbsnapError('INVALID_ARGUMENT', `expected --repo to be ${expected}`)
  if (flag !== undefined) return flag
  if (env === '') {
    throw new DbsnapError(
      'CONFIG_INVALID',
      `expected DBSNAP_REPO to be ${expected}; unset it to use the default repository`,
    )
  }
  if (env !== undefined) return env
  const dataHome = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share')
  return join(dataHome, 'dbsnap', 'repo')
}

/** Opens the repository; `create` makes one where there is none (the first snapshot does). */
export async function openRepository(
  location: string,
  options: { create?: boolean; compression?: CodecSpec; signal?: AbortSignal } = {},
): Promise<Repository> {
  const storage = await openStorage(location, { create: options.create === true })
  try {
    return await Repository.open(storage, options)
  } catch (err) {
    await storage.close()
    throw err
  }
}
