// Field-level changes of a modified row: each column old -> new, and for JSON values (JSON/JSONB
// columns, MongoDB documents) the RFC 6902 patch down to the nested key, from fast-json-patch.

import jsonPatch from 'fast-json-patch'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'
import type { TableSchema } from '../schema/schema.js'
import type { FieldChange, PatchOperation } from './diff-format.js'

/**
 * A column both sides have: its position in each side's rows, and whether its values are JSON
 * text (`json`) or canonical Extended JSON (`ejson`), compared by patch.
 */
export interface ColumnPair {
  name: string
  a: number
  b: number
  json: 'json' | 'ejson' | null
}

/** The columns both sides have, in `b`'s order. */
export function columnPairs(
  a: { columns: string[] },
  b: { columns: string[] },
  schema: TableSchema | undefined,
): ColumnPair[] {
  return b.columns.flatMap((name, index) => {
    const at = a.columns.indexOf(name)
    if (at < 0) return []
    return [{ name, a: at, b: index, json: jsonKind(schema, name) }]
  })
}

/**
 * Whether a column's values are JSON text (`json`: PostgreSQL json/jsonb, MariaDB JSON) or
 * canonical Extended JSON (`ejson`: MongoDB), or neither.
 */
export function jsonKind(schema: TableSchema | undefined, name: string): 'json' | 'ejson' | null {
  const column = schema?.columns.find((c) => c.name === name)
  if (column?.encoding === 'ejson') return 'ejson'
  if (column !== undefined && (/^jsonb?$/i.test(column.type) || isJsonChecked(schema, name)))
    return 'json'
  return null
}

/** MariaDB's JSON is LONGTEXT with a `CHECK (json_valid(`column`))` the server adds. */
function isJsonChecked(schema: TableSchema | undefined, column: string): boolean {
  const call = `json_valid(\`${column.replaceAll('`', '``')}\`)`
  return schema?.checks.some((check) => check.definition.includes(call)) ?? false
}

/** The columns whose values differ between `old` and `row`. */
export function fieldChanges(
  old: CanonicalRow,
  row: CanonicalRow,
  pairs: ColumnPair[],
): FieldChange[] {
  const changes: FieldChange[] = []
  for (const pair of pairs) {
    const before = old[pair.a] ?? null
    const after = row[pair.b] ?? null
    if (before === after) continue
    const change: FieldChange = { column: pair.name, old: before, new: after }
    const patch = pair.json === null ? undefined : jsonValuePatch(before, after, pair.json)
    if (patch !== undefined) change.patch = patch
    changes.push(change)
  }
  return changes
}

/**
 * The patch from one JSON text to another, or undefined when either is not JSON text. Extended
 * JSON wrappers (`{"$numberInt": "1"}`) are values, not objects: a change inside one is reported
 * as a replace of the whole wrapper at its field's path.
 */
export function jsonValuePatch(
  before: CanonicalValue,
  after: CanonicalValue,
  kind: 'json' | 'ejson',
): PatchOperation[] | undefined {
  if (typeof before !== 'string' || typeof after !== 'string') return undefined
  let a: unknown
  let b: unknown
  try {
    a = JSON.parse(before)
    b = JSON.parse(after)
  } catch {
    return undefined
  }
  const operations = jsonPatch.compare(asDocument(a), asDocument(b)) as PatchOperation[]
  return kind === 'ejson' ? collapseWrappers(operations, b) : operations
}

/** compare() takes objects or arrays; a scalar JSON value is wrapped so its change shows at ''. */
function asDocument(value: unknown): object {
  return value !== null && typeof value === 'object' ? value : { '': value }
}

/** The keys of canonical Extended JSON v2 wrappers (a user's own `$` keys are not among them). */
const WRAPPER_KEYS = new Set([
  '$oid', '$symbol', '$numberInt', '$numberLong', '$numberDouble', '$numberDecimal', '$binary',
  '$code', '$scope', '$timestamp', '$regularExpression', '$dbPointer', '$date', '$minKey',
  '$maxKey', '$undefined',
]) // prettier-ignore

/** Rewrites operations inside an Extended JSON wrapper as one replace of the wrapper. */
function collapseWrappers(operations: PatchOperation[], after: unknown): PatchOperation[] {
  const out: PatchOperation[] = []
  const seen = new Set<string>()
  for (const operation of operations) {
    const segments = operation.path.split('/')
    const wrapperAt = segments.findIndex((segment, i) => i > 0 && WRAPPER_KEYS.has(segment))
    if (wrapperAt < 0) {
      out.push(operation)
      continue
    }
    const path = segments.slice(0, wrapperAt).join('/')
    if (seen.has(path)) continue
    seen.add(path)
    out.push({ op: 'replace', path, value: jsonPatch.getValueByPointer(after, path) as unknown })
  }
  return out
}
