// Which integrity rule a failed statement broke, read from either driver's error, so the data
// layer turns it into a stable code (EMAIL_TAKEN, ORG_NOT_EMPTY…) whatever the dialect.

export type ConstraintKind = 'unique' | 'foreign-key' | 'check'

/** PostgreSQL SQLSTATEs (class 23, integrity constraint violation). */
const PG: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23503': 'foreign-key',
  '23514': 'check',
}

/** better-sqlite3 extended result codes. */
const SQLITE: Record<string, ConstraintKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  SQLITE_CONSTRAINT_CHECK: 'check',
}

/** The kind of constraint `err` reports as violated, or undefined for any other error. */
export function violatedConstraint(err: unknown): ConstraintKind | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  // SQLite reports an ON DELETE RESTRICT refusal as a trigger's, with the foreign key's message.
  if (
    code === 'SQLITE_CONSTRAINT_TRIGGER' &&
    /FOREIGN KEY constraint failed/.test(String((err as Error).message))
  ) {
    return 'foreign-key'
  }
  return PG[code] ?? SQLITE[code]
}

/**
 * Runs `statement`, turning a violation of a constraint kind listed in `errors` into that
 * error (the driver's error kept as its cause); anything else is rethrown as it is.
 *
 * @example
 * await translateConstraints(() => db.insertInto('orgs').values(org).execute(), {
 *   unique: (cause) => new ControlPlaneError('SLUG_TAKEN', `slug ${org.slug} is taken`, { cause }),
 * })
 */
export async function translateConstraints<T>(
  statement: () => Promise<T>,
  errors: Partial<Record<ConstraintKind, (cause: unknown) => Error>>,
): Promise<T> {
  try {
    return await statement()
  } catch (err) {
    const kind = violatedConstraint(err)
    const translate = kind === undefined ? undefined : errors[kind]
    throw translate === undefined ? err : translate(err)
  }
}
