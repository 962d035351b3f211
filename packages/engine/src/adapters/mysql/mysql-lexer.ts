// Splits MySQL/MariaDB SQL text into tokens the way the server (and the `mysql` client) does:
// quotes, backquotes, comments, and versioned comments whose text the server runs as code.

import { DbsnapError } from '../../errors.js'

/** One token; whitespace and plain comments are not tokens. */
export interface SqlToken {
  kind: 'word' | 'identifier' | 'string' | 'number' | 'punct'
  /** The text as written (a word upper-cased; quotes kept on strings and identifiers). */
  text: string
}

/** How the server reads quotes, which the sql_mode an object runs under decides. */
export interface LexOptions {
  /** `NO_BACKSLASH_ESCAPES`: a backslash in a string is an ordinary character. */
  noBackslashEscapes?: boolean
  /** `ANSI_QUOTES`: `"…"` is an identifier, in which a backslash is an ordinary character. */
  ansiQuotes?: boolean
}

/** What follows `--` when it starts a comment: a space or control character, or the end. */
// eslint-disable-next-line no-control-regex
const COMMENT_DASHES_END = /^[\s\x00-\x1f]?$/

/** The lexing options an object's recorded sql_mode implies (none when it has none). */
export function lexOptionsOf(sqlMode: string | null | undefined): LexOptions {
  const modes = new Set((sqlMode ?? '').toUpperCase().split(','))
  return {
    noBackslashEscapes: modes.has('NO_BACKSLASH_ESCAPES'),
    ansiQuotes: modes.has('ANSI_QUOTES') || modes.has('ANSI'),
  }
}

/**
 * The tokens of `sql`. Comments (`#…`, `-- …`, `/* … *\/`) are skipped, but a versioned
 * comment (`/*!50001 … *\/`, MariaDB's `/*M!100600 … *\/`) is code to the server: its opener and
 * closer are skipped and its text is read as tokens. A backslash outside a string is a token of
 * its own (`punct`): the `mysql` client runs `\!` and other backslash commands found there.
 *
 * @throws `INVALID_ARGUMENT` for a string, identifier or comment that does not end.
 */
export function lexMysql(sql: string, options: LexOptions = {}): SqlToken[] {
  const tokens: SqlToken[] = []
  let at = 0
  let versioned = false
  const unterminated = (what: string): DbsnapError =>
    new DbsnapError('INVALID_ARGUMENT', `${what} that does not end`)
  while (at < sql.length) {
    const c = sql[at]!
    const next = sql[at + 1]
    if (/\s/.test(c)) {
      at++
    } else if (
      c === '#' ||
      (c === '-' && next === '-' && COMMENT_DASHES_END.test(sql[at + 2] ?? ''))
    ) {
      const end = sql.indexOf('\n', at)
      at = end < 0 ? sql.length : end + 1
    } else if (c === '/' && next === '*') {
      const opener = /^\/\*(?:!|M!)(\d{5,6})?/.exec(sql.slice(at, at + 10))
      if (opener !== null) {
        if (versioned) throw unterminated('a versioned comment inside another')
        versioned = true
        at += opener[0].length
      } else {
        const end = sql.indexOf('*/', at + 2)
        if (end < 0) throw unterminated('a comment')
        at = end + 2
      }
    } else if (c === '*' && next === '/' && versioned) {
      versioned = false
      at += 2
    } else if (c === "'" || (c === '"' && options.ansiQuotes !== true)) {
      const end = quotedEnd(sql, at, options.noBackslashEscapes !== true)
      if (end < 0) throw unterminated('a string')
      tokens.push({ kind: 'string', text: sql.slice(at, end) })
      at = end
    } else if (c === '`' || c === '"') {
      const end = quotedEnd(sql, at, false)
      if (end < 0) throw unterminated('a quoted identifier')
      tokens.push({ kind: 'identifier', text: sql.slice(at, end) })
      at = end
    } else if (/[\p{L}\p{N}_$]/u.test(c)) {
      // A number may hold a point (`1.5e3`); a word ends at one (`t.c` is three tokens).
      const number = /\d/.test(c)
      let end = at + 1
      while (
        end < sql.length &&
        (number ? /[\p{L}\p{N}_$.]/u : /[\p{L}\p{N}_$]/u).test(sql[end]!)
      ) {
        end++
      }
      const text = sql.slice(at, end)
      tokens.push(number ? { kind: 'number', text } : { kind: 'word', text: text.toUpperCase() })
      at = end
    } else {
      tokens.push({ kind: 'punct', text: c })
      at++
    }
  }
  if (versioned) throw unterminated('a versioned comment')
  return tokens
}

/** The index just past the quoted text starting at `start`, or -1 when it does not end. */
function quotedEnd(sql: string, start: number, backslashEscapes: boolean): number {
  const quote = sql[start]
  let at = start + 1
  while (at < sql.length) {
    const c = sql[at]
    if (c === '\\' && backslashEscapes) at += 2
    else if (c === quote && sql[at + 1] === quote) at += 2
    else if (c === quote) return at + 1
    else at++
  }
  return -1
}

/** The kinds of statement a snapshot's definitions become. */
export type StatementKind =
  'TABLE' | 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT' | 'SEQUENCE'

/** Words between CREATE and the kind of object it creates. */
const CREATE_MODIFIERS = new Set([
  'OR',
  'REPLACE',
  'TEMPORARY',
  'ALGORITHM',
  'UNDEFINED',
  'MERGE',
  'TEMPTABLE',
  'SQL',
  'SECURITY',
  'DEFINER',
  'INVOKER',
  'AGGREGATE',
])

/**
 * Fails unless `sql` is exactly one `CREATE … <kind> <name>` statement: the check every
 * statement built from a snapshot passes before it runs or goes into an export, since anyone who
 * can write a repository can write its manifest. Read as the server reads it under `sqlMode`
 * and as the `mysql` client splits a script (which knows no sql_mode but NO_BACKSLASH_ESCAPES):
 * - no `;` outside a compound body (BEGIN … END, CASE … END), nor at all for a table or view;
 *   versioned comments count as code, the server runs them;
 * - no backslash outside a string (the client's commands: `\!` runs a shell) and no bare
 *   DELIMITER word (the client's command to change the statement delimiter);
 * - strings, identifiers and comments that end; blocks that close;
 * - CREATE, modifiers (OR REPLACE, DEFINER = …, ALGORITHM = …, SQL SECURITY …), then `kind`
 *   and the object's own name.
 *
 * @throws `DATA_CORRUPT` naming `object` (`trigger \`t\``) and what is wrong.
 */
export function checkStatement(
  sql: string,
  kind: StatementKind,
  name: string,
  options: { object: string; sqlMode?: string | null },
): void {
  const lexOptions = lexOptionsOf(options.sqlMode)
  const problem =
    statementProblem(sql, kind, name, lexOptions) ??
    statementProblem(sql, kind, name, { noBackslashEscapes: lexOptions.noBackslashEscapes })
  if (problem !== null) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `the snapshot's definition of ${options.object} is not one CREATE ${kind} statement: ${problem}`,
      { details: { object: options.object } },
    )
  }
}

function statementProblem(
  sql: string,
  kind: StatementKind,
  name: string,
  options: LexOptions,
): string | null {
  let tokens: SqlToken[]
  try {
    tokens = lexMysql(sql, options)
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
  // Blocks a `;` may stand in: compound statements of routine, trigger and event bodies.
  const compound = kind !== 'TABLE' && kind !== 'VIEW' && kind !== 'SEQUENCE'
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind === 'punct' && token.text === '\\') return 'a backslash outside a string'
    if (token.kind === 'word' && token.text === 'DELIMITER') return 'the word DELIMITER'
    if (token.kind === 'punct' && token.text === ';' && (!compound || depth === 0)) {
      return 'a ";" that ends it, with more after it'
    }
    if (!compound || token.kind !== 'word') continue
    if (token.text === 'BEGIN' || token.text === 'CASE') depth++
    else if (token.text === 'END') {
      // END IF, END LOOP… close blocks not counted; END CASE closes a CASE, as END does.
      const next = tokens[i + 1]
      const closes =
        next?.kind === 'word' ? /^(IF|LOOP|WHILE|REPEAT|FOR|CASE)$/.exec(next.text) : null
      if (closes !== null) i++
      if (closes === null || closes[0] === 'CASE') depth--
      if (depth < 0) return 'an END without its BEGIN'
    }
  }
  if (depth !== 0) return 'a BEGIN without its END'
  return leadProblem(tokens, kind, name)
}

/** Whether the statement starts CREATE [modifiers] <kind> [IF NOT EXISTS] <name>. */
function leadProblem(tokens: SqlToken[], kind: StatementKind, name: string): string | null {
  if (tokens[0]?.text !== 'CREATE' || tokens[0].kind !== 'word')
    return 'it does not start with CREATE'
  let at = 1
  while (at < tokens.length) {
    const token = tokens[at]!
    if (token.kind === 'word' && CREATE_MODIFIERS.has(token.text)) {
      at++
      // DEFINER = user@host, not SQL SECURITY DEFINER.
      if (token.text === 'DEFINER' && tokens[at]?.text === '=') at = afterDefiner(tokens, at)
    } else if (token.kind === 'punct' && token.text === '=') {
      at++
    } else break
  }
  const found = tokens[at]
  if (found?.kind !== 'word' || found.text !== kind) {
    return `it creates ${found === undefined ? 'nothing' : found.text}`
  }
  at++
  if (
    tokens[at]?.text === 'IF' &&
    tokens[at + 1]?.text === 'NOT' &&
    tokens[at + 2]?.text === 'EXISTS'
  ) {
    at += 3
  }
  const named = tokens[at]
  const text = named === undefined ? undefined : identifierText(named.text)
  if (text?.toLowerCase() !== name.toLowerCase()) {
    return `it names ${text === undefined ? 'nothing' : JSON.stringify(text)}, not ${JSON.stringify(name)}`
  }
  return null
}

/** `` `a``b` `` -> `` a`b ``; any other token's text as it is. */
export function identifierText(quoted: string): string {
  return quoted.startsWith('`') ? quoted.slice(1, -1).replaceAll('``', '`') : quoted
}

/** The index past a DEFINER's value (`user@host`, `CURRENT_USER[()]`), from its `=`. */
function afterDefiner(tokens: SqlToken[], at: number): number {
  at++
  if (tokens[at]?.text === 'CURRENT_USER') {
    at++
    if (tokens[at]?.text === '(' && tokens[at + 1]?.text === ')') at += 2
    return at
  }
  at++ // the user
  if (tokens[at]?.text === '@') at += 2 // the host
  return at
}
