// The column types that differ between the dialects; every other column is `text` or `integer`
// on both (see schema.ts for the forms values take).

import type { DialectName } from '../database.js'

export function columnTypes(dialect: DialectName) {
  return dialect === 'postgres'
    ? ({ timestamp: 'timestamptz', day: 'date' } as const)
    : ({ timestamp: 'text', day: 'text' } as const)
}
