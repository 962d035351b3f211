// A schema's definition as JSON that changes only when its structure does: what schema diff
// compares objects by, and what a snapshot's schema fingerprint hashes (the control plane's
// catalogue tells schema changes apart with it, without reading manifests).

import { createHash } from 'node:crypto'

/**
 * Facts that change without anyone changing the schema: planner estimates, catalog ids that a
 * restore renumbers (MongoDB collection UUIDs too), a sequence's position (data, not structure).
 */
const VOLATILE = new Set(['estimatedRows', 'estimatedBytes', 'typeOid', 'oid', 'lastValue', 'uuid'])

/** `value` as JSON with its keys sorted and its volatile facts left out. */
export function definitionJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (VOLATILE.has(key)) return undefined
    // A MySQL table's next AUTO_INCREMENT value is a counter, like a sequence's position; the
    // column's AUTO_INCREMENT attribute (a boolean of the same name) is structure.
    if (key === 'autoIncrement' && typeof v === 'string') return undefined
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {}
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k]
      return sorted
    }
    return v
  })
}

/** SHA-256 (hex) of the schema's `definitionJson`: equal for schemas schema diff finds equal. */
export function schemaFingerprint(schema: unknown): string {
  return createHash('sha256').update(definitionJson(schema)).digest('hex')
}
