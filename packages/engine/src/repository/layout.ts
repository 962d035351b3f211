// Where a repository keeps what on its storage (docs/snapshot-format.md, "Repository layout"):
// every key the engine reads or writes is spelled here and nowhere else.

/** The repository's config: format version, chunking parameters, codec. */
export const CONFIG_KEY = 'config'

/** Content-addressed objects (data chunks, chunk indexes), fanned out by their id's first byte. */
export const CHUNKS_PREFIX = 'chunks/'

/** One manifest per snapshot, named by its id: the commit point of the snapshot. */
export const SNAPSHOTS_PREFIX = 'snapshots/'

/** Short-lived lock objects (repository/locks.ts). */
export const LOCKS_PREFIX = 'locks/'

/** Saved diffs, named by their id: the commit point of a `diff --save`. */
export const DIFFS_PREFIX = 'diffs/'

/** The blocks of row changes saved diffs list; under `diffs/`, so never taken for a saved diff. */
export const DIFF_BLOCKS_PREFIX = `${DIFFS_PREFIX}blocks/`

/** Storage key of an object: `chunks/ab/abcdef…`. */
export function objectKey(id: string): string {
  return `${CHUNKS_PREFIX}${id.slice(0, 2)}/${id}`
}

/** Storage key of a snapshot's manifest: `snapshots/<id>`. */
export function manifestKey(id: string): string {
  return `${SNAPSHOTS_PREFIX}${id}`
}

/** Storage key of a lock: `locks/<id>`. */
export function lockKey(id: string): string {
  return `${LOCKS_PREFIX}${id}`
}

/** Storage key of a saved diff: `diffs/<id>`. */
export function savedDiffKey(id: string): string {
  return `${DIFFS_PREFIX}${id}`
}

/** Storage key of a saved diff's block: `diffs/blocks/<id>`. */
export function diffBlockKey(id: string): string {
  return `${DIFF_BLOCKS_PREFIX}${id}`
}

/** The id a key of this layout ends with: `chunks/ab/abcd…` and `snapshots/abcd…` give `abcd…`. */
export function idOfKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1)
}
