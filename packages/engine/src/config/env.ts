// The one way DBSnap programs read settings from the environment: a zod schema per program,
// and a single error naming every bad variable at once instead of failing on the first.

import type { z } from 'zod'
import { DbsnapError } from '../errors.js'

/**
 * Parses `env` with `schema` and returns the typed settings.
 *
 * Throws a `CONFIG_INVALID` DbsnapError whose message lists every missing or invalid variable,
 * one per line, without echoing values (they may be secrets).
 *
 * @example
 * const config = parseEnv(z.object({ PORT: z.coerce.number().int().default(8080) }), process.env)
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  // An empty variable means "not set": `FOO= program` should fall back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const result = schema.safeParse(cleaned)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(environment)'
    const why =
      issue.code === 'invalid_type' && cleaned[key] === undefined ? 'is required' : issue.message
    return `  ${key}: ${why}`
  })
  const names = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join('.')))]
  return fail(problems, names)
}

function fail(problems: string[], names: string[]): never {
  throw new DbsnapError(
    'CONFIG_INVALID',
    `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`,
    { details: { variables: names } },
  )
}
