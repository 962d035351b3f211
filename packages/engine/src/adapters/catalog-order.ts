// The order introspection lists objects in, for every engine: code-unit order, the same on every
// machine (unlike the database's or the locale's collations), so schemas compare byte for byte.

import type { QualifiedName } from '../schema/schema.js'

/** Code-unit order of two strings. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** By schema, then name. */
export function compareQualified(a: QualifiedName, b: QualifiedName): number {
  return compareText(a.schema, b.schema) || compareText(a.name, b.name)
}
