// Snapshot references as users type them: a full id, a unique id prefix, `name@latest` or
// `name@latest~N` (N snapshots before the latest), where name may also be a connection URL; and
// a table of a snapshot as users name it.

import { engineModule } from '../adapters/engines.js'
import { parseConnectionUrl } from '../connection/url.js'
import { DbsnapError } from '../errors.js'
import type { TableEntry } from '../repository/manifest.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { findNamed } from '../schema/table-filter.js'
import { tableName } from '../schema/table-name.js'

/** The catalogue name a URL's snapshots are filed under: its database name. */
export function catalogueName(nameOrUrl: string): string {
  if (!nameOrUrl.includes('://')) return nameOrUrl
  const target = parseConnectionUrl(nameOrUrl)
  return target.database ?? target.user ?? target.host
}

/**
 * Finds the snapshot a reference names.
 * Rejects with `SNAPSHOT_NOT_FOUND` or `SNAPSHOT_AMBIGUOUS` (listing the candidates).
 */
export async function resolveSnapshot(
  repository: Repository,
  ref: string,
  options: { signal?: AbortSignal; snapshots?: StoredSnapshot[] } = {},
): Promise<StoredSnapshot> {
  const text = ref.trim()
  const latest = /^(.+)@latest(?:~(\d+))?$/.exec(text)
  if (latest !== null) {
    const name = catalogueName(latest[1]!)
    const back = Number(latest[2] ?? '0')
    // A manifest that cannot be read has no name to match: skipped, as `dbsnap snapshots` does.
    const all =
      options.snapshots ??
      (await repository.listSnapshotsAndUnreadable({ signal: options.signal })).snapshots
    const named = all.filter((s) => s.manifest.name === name)
    const found = named.at(-1 - back)
    if (found === undefined) {
      throw new DbsnapError(
        'SNAPSHOT_NOT_FOUND',
        named.length === 0
          ? `no snapshot named "${name}" in ${repository.location}`
          : `"${name}" has ${named.length} snapshot${named.length === 1 ? '' : 's'}; ${text} asks for number ${back + 1} from the latest`,
        { details: { ref: text } },
      )
    }
    return found
  }
  if (!/^[0-9a-f]{4,64}$/.test(text)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a snapshot id, an id prefix of at least 4 hex digits, <name>@latest or <name>@latest~N, got "${text}"`,
    )
  }
  const ids = (await repository.listSnapshotIds(options.signal)).filter((id) => id.startsWith(text))
  if (ids.length === 0) {
    throw new DbsnapError('SNAPSHOT_NOT_FOUND', `no snapshot ${text} in ${repository.location}`, {
      details: { ref: text },
    })
  }
  if (ids.length > 1) {
    throw new DbsnapError(
      'SNAPSHOT_AMBIGUOUS',
      `snapshot prefix ${text} matches ${ids.length} snapshots: ${ids.map((id) => id.slice(0, 12)).join(', ')}`,
      { details: { ref: text, candidates: ids } },
    )
  }
  const id = ids[0]!
  return { id, manifest: await repository.readManifest(id, options.signal) }
}

/**
 * Finds a table of a snapshot by `schema.table` (or `table` in the default schema), quoted as
 * `--tables` reads it (`"x.y".z`). Failing that, by the two joined unquoted, as `show` took them
 * before (`x.y.z`, a MongoDB `fs.files`), when that names one table only.
 */
export function findTable(snapshot: StoredSnapshot, name: string): TableEntry {
  const { tables } = snapshot.manifest
  const defaultSchema = engineModule(snapshot.manifest.source.engine).defaultSchema
  const joined = tables.filter(
    (t) =>
      (t.schema === '' ? t.name : `${t.schema}.${t.name}`) === name ||
      (t.schema === defaultSchema && t.name === name),
  )
  const found =
    findNamed(tables, name, defaultSchema) ?? (joined.length === 1 ? joined[0] : undefined)
  if (found !== undefined) return found
  if (joined.length > 1) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `"${name}" names ${joined.length} tables of snapshot ${snapshot.id.slice(0, 12)}: ${joined.map(tableName).join(', ')}; give one as written here`,
      { details: { table: name, snapshot: snapshot.id } },
    )
  }
  throw new DbsnapError(
    'TABLE_NOT_FOUND',
    `snapshot ${snapshot.id.slice(0, 12)} has no table "${name}"`,
    { details: { table: name, snapshot: snapshot.id } },
  )
}
