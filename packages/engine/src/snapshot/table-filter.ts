// `--tables` / `--exclude`: which tables a snapshot reads. Names are `schema.table`; `public.`
// may be left out; `*` and `?` glob; double quotes keep dots and case in identifiers.

import { DbsnapError } from '../errors.js'
import type { QualifiedName, TableSchema } from '../schema/schema.js'

interface Pattern {
  text: string
  schema: RegExp
  name: RegExp
  glob: boolean
}

/** Splits `a.b`, `"my.schema"."T"`, `t` into identifier parts. */
function splitName(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        current += '"'
        i++
      } else if (c === '"') quoted = false
      else current += c
    } else if (c === '"') quoted = true
    else if (c === '.') {
      parts.push(current)
      current = ''
    } else current += c
  }
  if (quoted)
    throw new DbsnapError('INVALID_ARGUMENT', `unterminated quote in table name "${text}"`)
  parts.push(current)
  return parts
}

function globRegex(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`, 'u')
}

function parsePattern(text: string, defaultSchema: string): Pattern {
  const parts = splitName(text.trim())
  if (parts.length > 2 || parts.some((part) => part === '')) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a table as schema.table or table, got "${text}"`,
    )
  }
  const [schema, name] =
    parts.length === 2 ? (parts as [string, string]) : [defaultSchema, parts[0]!]
  return { text, schema: globRegex(schema), name: globRegex(name), glob: /[*?]/.test(text) }
}

function matches(pattern: Pattern, table: QualifiedName): boolean {
  return pattern.schema.test(table.schema) && pattern.name.test(table.name)
}

/**
 * The tables to read, in schema order: those matching `include` (all when empty) minus those
 * matching `exclude`. Partitioned parents hold no rows themselves: selecting one selects its
 * partitions. An include pattern without wildcards that matches nothing is an error
 * (`TABLE_NOT_FOUND`); exclude patterns may match nothing (a dropped table must not break a
 * scheduled snapshot).
 */
export function selectTables(
  tables: TableSchema[],
  options: { include?: string[]; exclude?: string[]; defaultSchema?: string } = {},
): TableSchema[] {
  const defaultSchema = options.defaultSchema ?? 'public'
  const include = (options.include ?? []).map((p) => parsePattern(p, defaultSchema))
  const exclude = (options.exclude ?? []).map((p) => parsePattern(p, defaultSchema))
  for (const pattern of include) {
    if (!pattern.glob && !tables.some((table) => matches(pattern, table))) {
      throw new DbsnapError('TABLE_NOT_FOUND', `no table "${pattern.text}" in the database`, {
        details: { table: pattern.text },
      })
    }
  }
  const chosen = new Set<TableSchema>()
  const children = (parent: TableSchema): TableSchema[] =>
    tables.filter(
      (t) => t.partitionOf?.schema === parent.schema && t.partitionOf.name === parent.name,
    )
  const add = (table: TableSchema): void => {
    if (table.kind === 'partitioned') children(table).forEach(add)
    else chosen.add(table)
  }
  for (const table of tables) {
    if (include.length === 0 || include.some((p) => matches(p, table))) add(table)
  }
  const excluded = (table: TableSchema): boolean =>
    exclude.some(
      (p) => matches(p, table) || (table.partitionOf !== null && matches(p, table.partitionOf)),
    )
  return tables.filter((table) => chosen.has(table) && !excluded(table))
}
