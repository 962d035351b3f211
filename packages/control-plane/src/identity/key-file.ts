// Keys the control plane makes itself on a first start with SQLite (the token signing key, the
// credential key) live in files beside the database, never in it: a copy of the database alone
// then neither mints tokens nor decrypts credentials.

import { readFile, writeFile } from 'node:fs/promises'

/**
 * The key in `file`, trimmed; when the file does not exist, `make()` is written to it first
 * (mode 0600). Of two processes starting at once, one writes (`wx`) and the other reads its key.
 */
export async function readOrCreateKeyFile(file: string, make: () => string): Promise<string> {
  const key = make()
  try {
    await writeFile(file, `${key}\n`, { flag: 'wx', mode: 0o600 })
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return (await readFile(file, 'utf8')).trim()
}
