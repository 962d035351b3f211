// `--tables` / `--exclude`: which tables a snapshot reads. Names are `schema.table`; `public.`
// may be left out; `*` and `?` glob; double quotes make an identifier literal (dots, `*`, `,`).

import { DbsnapError } from '../errors.js'
import { tableName } from './table-name.js'
import type { QualifiedName, TableSchema } from './schema.js'

/**
 * What `--tables` takes: a pattern as users type it (several separated by commas), or a table
 * already resolved, which matches that one table and nothing else.
 */
export type TableSelector = string | QualifiedName

interface Pattern {
  text: string
  glob: boolean
  test: (table: QualifiedName) => boolean
}

/** An identifier part as a regular expression: unquoted `*` and `?` glob, the rest is literal. */
interface Part {
  source: string
  glob: boolean
}

/**
 * Splits `a.b`, `"my.schema"."T"`, `t` into identifier parts. Inside double quotes every
 * character is literal (`""` is one `"`), so `"a.b"` is one part and `"*"` matches only `*`.
 */
function splitName(text: string): Part[] {
  const parts: Part[] = []
  let current: Part = { source: '', glob: false }
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        current.source += '"'
        i++
      } else if (c === '"') quoted = false
      else current.source += escapeRegex(c)
    } else if (c === '"') quoted = true
    else if (c === '.') {
      parts.push(current)
      current = { source: '', glob: false }
    } else if (c === '*' || c === '?') {
      current.source += c === '*' ? '.*' : '.'
      current.glob = true
    } else current.source += escapeRegex(c)
  }
  if (quoted)
    throw new DbsnapError('INVALID_ARGUMENT', `unterminated quote in table name "${text}"`)
  parts.push(current)
  return parts
}

function escapeRegex(text: string): string {
  return text.replace(/[.*?+^${}()|[\]\\]/g, '\\$&')
}

function parsePattern(text: string, defaultSchema: string): Pattern {
  const parts = splitName(text.trim())
  if (parts.length > 2 || parts.some((part) => part.source === '')) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a table as schema.table or table, got "${text}"`,
    )
  }
  const [schema, name] =
    parts.length === 2
      ? (parts as [Part, Part])
      : [{ source: escapeRegex(defaultSchema), glob: false }, parts[0]!]
  const schemaRegex = new RegExp(`^${schema.source}$`, 'su')
  const nameRegex = new RegExp(`^${name.source}$`, 'su')
  return {
    text,
    glob: schema.glob || name.glob,
    test: (table) => schemaRegex.test(table.schema) && nameRegex.test(table.name),
  }
}

/** `a, "b,c"` as `a` and `"b,c"`: commas outside double quotes separate patterns. */
function splitList(text: string): string[] {
  const items: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted
    else if (text[i] === ',' && !quoted) {
      items.push(text.slice(start, i))
      start = i + 1
    }
  }
  items.push(text.slice(start))
  return items
}

function parseSelectors(selectors: TableSelector[], defaultSchema: string): Pattern[] {
  return selectors.flatMap((selector) =>
    typeof selector === 'string'
      ? splitList(selector).map((text) => parsePattern(text, defaultSchema))
      : [
          {
            text: tableName(selector),
            glob: false,
            test: (table: QualifiedName) =>
              table.schema === selector.schema && table.name === selector.name,
          },
        ],
  )
}

/**
 * The table of `tables` that `text` names as `--tables` reads it, or undefined when none does or
 * `text` is not one table's name (malformed, or a glob).
 */
export function findNamed<T extends QualifiedName>(
  tables: T[],
  text: string,
  defaultSchema: string,
): T | undefined {
  let pattern: Pattern
  try {
    pattern = parsePattern(text, defaultSchema)
  } catch {
    return undefined
  }
  return pattern.glob ? undefined : tables.find((table) => pattern.test(table))
}

/**
 * The tables to read, in schema order: those matching `include` (all when empty) minus those
 * matching `exclude`. Partitioned parents hold no rows themselves: selecting one selects its
 * partitions. An include pattern that matches nothing, a glob too, is an error
 * (`TABLE_NOT_FOUND`: a typo must not give an empty snapshot or restore); exclude patterns may
 * match nothing (a dropped table must not break a scheduled snapshot).
 */
export function selectTables(
  tables: TableSchema[],
  options: {
    include?: TableSelector[]
    exclude?: TableSelector[]
    defaultSchema?: string
    /** What `tables` are of, as messages say it; default `the database`. */
    where?: string
  } = {},
): TableSchema[] {
  const defaultSchema = options.defaultSchema ?? 'public'
  const include = parseSelectors(options.include ?? [], defaultSchema)
  const exclude = parseSelectors(options.exclude ?? [], defaultSchema)
  for (const pattern of include) {
    if (!tables.some((table) => pattern.test(table))) {
      const message = pattern.glob
        ? `no table matches "${pattern.text}"`
        : `no table "${pattern.text}"`
      throw new DbsnapError('TABLE_NOT_FOUND', `${message} in ${options.where ?? 'the database'}`, {
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
    if (include.length === 0 || include.some((p) => p.test(table))) add(table)
  }
  const excluded = (table: TableSchema): boolean =>
    exclude.some((p) => p.test(table) || (table.partitionOf !== null && p.test(table.partitionOf)))
  return tables.filter((table) => chosen.has(table) && !excluded(table))
}
