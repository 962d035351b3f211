// How a table is named: as a map key (`tableKey`) and as users write it (`tableName`), which
// `--tables` (table-filter.ts) reads back; manifests, restore plans and messages use both.

/**
 * A table's identity as a map key: schema and name, never joined by a character either may hold
 * (`x.y`.`z` and `x`.`y.z` are two tables). Keys are compared, not shown; show `tableName`.
 */
export function tableKey(table: { schema: string; name: string }): string {
  return JSON.stringify([table.schema, table.name])
}

/**
 * `schema.name` as users write it, and as `--tables` reads it back: a part holding a dot, a
 * double quote, a wildcard, a comma or edge spaces is double-quoted (`"x.y".z`, `x."y.z"`, `"*"`), so
 * no two tables print the same. Engines without schemas print the name alone.
 */
export function tableName(table: { schema: string; name: string }): string {
  return table.schema === ''
    ? quoteNamePart(table.name)
    : `${quoteNamePart(table.schema)}.${quoteNamePart(table.name)}`
}

/** An identifier as `--tables` reads it literally: quoted, `"` doubled, when it must be. */
function quoteNamePart(part: string): string {
  return part === '' || /[."*?,]|^\s|\s$/u.test(part) ? `"${part.replaceAll('"', '""')}"` : part
}
