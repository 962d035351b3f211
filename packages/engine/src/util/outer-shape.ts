// Values whose full shape is checked where they are used: a stored object is checked on reading
// for the outer shape its readers rely on, and typed as what it holds.

import { z } from 'zod'

/**
 * A schema of `T` that checks only `outer`, the shape every `T` has: what a manifest knows of its
 * database schema, what a saved diff knows of its summary.
 *
 * @example
 * const schema = outerShape<DatabaseSchema>(z.looseObject({ engine: z.string() }))
 */
export function outerShape<T>(outer: z.ZodType): z.ZodType<T> {
  return z.custom<T>((value) => outer.safeParse(value).success)
}
