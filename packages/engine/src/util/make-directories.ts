// `mkdir -p` that always ends. Node's own recursive mkdir (`{ recursive: true }`) retries for ever
// when a parent exists but cannot hold children — a path under /proc, a dangling symlink — as
// the kernel answers ENOENT for the child and EEXIST for the parent, 100% CPU and no error.
// Here an ENOENT once the parent exists is final.

import { mkdirSync, statSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { findErrorCode } from '../errors.js'

/**
 * Creates `path` and its missing parents, with `mode` for each new one. Resolves with the first
 * directory it created, undefined when `path` was a directory already, as `mkdir(path,
 * { recursive: true })` does; rejects with the file system's error (ENOENT, ENOTDIR, EEXIST for
 * a file in the way, EACCES …).
 */
export async function makeDirectories(path: string, mode?: number): Promise<string | undefined> {
  try {
    await mkdir(path, mode)
    return path
  } catch (err) {
    const code = findErrorCode(err)
    if (code === 'EEXIST' && (await stat(path).catch(() => null))?.isDirectory()) return undefined
    if (code !== 'ENOENT' || dirname(path) === path) throw err
  }
  const first = await makeDirectories(dirname(path), mode)
  try {
    await mkdir(path, mode)
  } catch (err) {
    // Made by someone else meanwhile: as good. ENOENT again: the parent cannot hold it.
    if (findErrorCode(err) !== 'EEXIST' || !(await stat(path)).isDirectory()) throw err
  }
  return first ?? path
}

/** `makeDirectories`, blocking: for start-up, before anything else runs. */
export function makeDirectoriesSync(path: string, mode?: number): string | undefined {
  try {
    mkdirSync(path, mode)
    return path
  } catch (err) {
    const code = findErrorCode(err)
    if (code === 'EEXIST' && isDirectorySync(path)) return undefined
    if (code !== 'ENOENT' || dirname(path) === path) throw err
  }
  const first = makeDirectoriesSync(dirname(path), mode)
  try {
    mkdirSync(path, mode)
  } catch (err) {
    if (findErrorCode(err) !== 'EEXIST' || !isDirectorySync(path)) throw err
  }
  return first ?? path
}

function isDirectorySync(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
