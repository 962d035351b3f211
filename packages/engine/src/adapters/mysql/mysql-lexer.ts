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
