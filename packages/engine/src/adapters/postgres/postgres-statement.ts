// Checks that a DDL statement built from a snapshot's manifest is one statement of the kind its
// step says, before a restore runs it or an SQL export writes it: a manifest is untrusted input.

import { DbsnapError } from '../../errors.js'
import type { DdlStatement } from './postgres-ddl.js'

/** A name as the statement shapes below see it: `schema . name`, each part one token. */
const NAME = String.raw`\S+ \. \S+`
/** `ALTER TABLE name ADD CONSTRAINT name`, what precedes a constraint's definition. */
const ADD_CONSTRAINT = String.raw`ALTER TABLE ${NAME} ADD CONSTRAINT \S+`
/** A view's query, after `AS`. */
const QUERY = String.raw`AS (SELECT|WITH|VALUES|TABLE|\()`

/**
 * For each restore step (`DdlStatement.action`): what it is called in a message, the statement
 * it must be, and how its normalized words must start (keywords upper-cased, each quoted
 * identifier `I`, each string or number its own word, punctuation one word per character).
 */
const SHAPES: Record<string, { noun: string; kind: string; start: RegExp }> = {
  'create schema': shape('schema', 'CREATE SCHEMA', 'CREATE SCHEMA'),
  'create extension': shape('extension', 'CREATE EXTENSION', 'CREATE EXTENSION'),
  'create collation': shape('collation', 'CREATE COLLATION', 'CREATE COLLATION'),
  'create type': shape('type', 'CREATE TYPE', 'CREATE TYPE'),
  'create domain': shape('domain', 'CREATE DOMAIN', 'CREATE DOMAIN'),
  'add domain check': shape(
    'domain check',
    'ALTER DOMAIN … ADD CHECK',
    `ALTER DOMAIN ${NAME} ADD CONSTRAINT \\S+ CHECK`,
  ),
  'create function': shape('function', 'CREATE FUNCTION', 'CREATE (OR REPLACE )?FUNCTION'),
  'create window': shape('function', 'CREATE FUNCTION', 'CREATE (OR REPLACE )?FUNCTION'),
  'create procedure': shape('procedure', 'CREATE PROCEDURE', 'CREATE (OR REPLACE )?PROCEDURE'),
  'create aggregate': shape('aggregate', 'CREATE AGGREGATE', 'CREATE (OR REPLACE )?AGGREGATE'),
  'create cast': shape('cast', 'CREATE CAST', 'CREATE CAST'),
  'create operator': shape('operator', 'CREATE OPERATOR', 'CREATE OPERATOR'),
  'create text search configuration': shape(
    'text search configuration',
    'CREATE TEXT SEARCH CONFIGURATION',
    'CREATE TEXT SEARCH CONFIGURATION',
  ),
  'add text search mapping': shape(
    'text search configuration',
    'ALTER TEXT SEARCH CONFIGURATION',
    'ALTER TEXT SEARCH CONFIGURATION',
  ),
  'create sequence': shape('sequence', 'CREATE SEQUENCE', 'CREATE SEQUENCE'),
  'set sequence owner': shape('sequence', 'ALTER SEQUENCE', 'ALTER SEQUENCE'),
  'create table': shape('table', 'CREATE TABLE', 'CREATE (UNLOGGED )?TABLE'),
  'drop table': shape('table', 'DROP TABLE', 'DROP TABLE'),
  'drop view': shape('view', 'DROP VIEW', 'DROP (MATERIALIZED )?VIEW'),
  'drop foreign key': shape(
    'foreign key',
    'ALTER TABLE … DROP CONSTRAINT',
    `ALTER TABLE ${NAME} DROP CONSTRAINT`,
  ),
  comment: shape('comment', 'COMMENT ON', 'COMMENT ON'),
  'enable row security': shape('table', 'ALTER TABLE', 'ALTER TABLE'),
  'force row security': shape('table', 'ALTER TABLE', 'ALTER TABLE'),
  'set column statistics': shape('column', 'ALTER TABLE', 'ALTER TABLE'),
  'set column storage': shape('column', 'ALTER TABLE', 'ALTER TABLE'),
  'set column options': shape('column', 'ALTER TABLE', 'ALTER TABLE'),
  'set cluster index': shape('index', 'ALTER TABLE', 'ALTER TABLE'),
  'set statistics target': shape('statistics object', 'ALTER STATISTICS', 'ALTER STATISTICS'),
  'set column default': shape('column default', 'ALTER TABLE … SET DEFAULT', 'ALTER TABLE'),
  'set replica identity': shape('table', 'ALTER TABLE', 'ALTER TABLE'),
  'set trigger state': shape('trigger', 'ALTER TABLE', 'ALTER TABLE'),
  'set rule state': shape('rule', 'ALTER TABLE', 'ALTER TABLE'),
  'add primary key': shape('primary key', 'PRIMARY KEY', `${ADD_CONSTRAINT} PRIMARY KEY`),
  'add unique key': shape('unique key', 'UNIQUE', `${ADD_CONSTRAINT} UNIQUE`),
  'add check': shape('check', 'CHECK', `${ADD_CONSTRAINT} CHECK`),
  'add exclusion constraint': shape('exclusion constraint', 'EXCLUDE', `${ADD_CONSTRAINT} EXCLUDE`),
  'add foreign key': shape('foreign key', 'FOREIGN KEY', `${ADD_CONSTRAINT} FOREIGN KEY`),
  'create index': shape('index', 'CREATE INDEX', 'CREATE (UNIQUE )?INDEX'),
  'create statistics': shape('statistics object', 'CREATE STATISTICS', 'CREATE STATISTICS'),
  'attach partition': shape(
    'partition bound',
    'FOR VALUES or DEFAULT',
    `ALTER TABLE ${NAME} ATTACH PARTITION ${NAME} (FOR VALUES|DEFAULT)`,
  ),
  'create trigger': shape('trigger', 'CREATE TRIGGER', 'CREATE (CONSTRAINT )?TRIGGER'),
  'create rule': shape('rule', 'CREATE RULE', 'CREATE (OR REPLACE )?RULE'),
  'create policy': shape('policy', 'CREATE POLICY', 'CREATE POLICY'),
  'create view': shape(
    'view',
    'CREATE VIEW … AS SELECT',
    `CREATE OR REPLACE VIEW ${NAME} (WITH \\( .*? \\) )?${QUERY}`,
  ),
  'create materialized view': shape(
    'materialized view',
    'CREATE MATERIALIZED VIEW … AS SELECT',
    `CREATE MATERIALIZED VIEW ${NAME} (WITH \\( .*? \\) )?${QUERY}`,
  ),
  'create publication': shape('publication', 'CREATE PUBLICATION', 'CREATE PUBLICATION'),
  'add publication table': shape('publication', 'ALTER PUBLICATION', 'ALTER PUBLICATION'),
  'create event trigger': shape('event trigger', 'CREATE EVENT TRIGGER', 'CREATE EVENT TRIGGER'),
  'set event trigger state': shape('event trigger', 'ALTER EVENT TRIGGER', 'ALTER EVENT TRIGGER'),
  'refresh materialized view': shape(
    'materialized view',
    'REFRESH MATERIALIZED VIEW',
    'REFRESH MATERIALIZED VIEW',
  ),
  // Positions are numbers: nothing else may stand where setval's arguments are.
  'set sequence value': shape(
    'sequence value',
    'setval',
    String.raw`SELECT PG_CATALOG \. SETVAL \( S , (- )?[0-9]+ , (TRUE|FALSE) \)( FROM ${NAME} WHERE NOT IS_CALLED OR LAST_VALUE < (- )?[0-9]+)?$`,
  ),
}

function shape(
  noun: string,
  kind: string,
  start: string,
): { noun: string; kind: string; start: RegExp } {
  return { noun, kind, start: new RegExp(`^${start}( |$)`) }
}

/**
 * Refuses a statement that is not one statement of the kind its step says (`DATA_CORRUPT`
 * naming the object): more than one statement, a quote, comment or dollar-quoted body left
 * open, a backslash outside quotes (a psql meta-command in an SQL export), or other leading
 * keywords than the step's. Definitions come from the manifest, which anyone who can write the
 * repository can change; a restore also runs each statement alone (extended query protocol),
 * but an SQL export is loaded by psql, which runs whatever it is given.
 *
 * @example
 * checkStatement({ sql: 'CREATE INDEX i ON t (a); DROP TABLE t', action: 'create index', object: 't.i' })
 * // throws DATA_CORRUPT: the manifest's definition of index t.i is not a single CREATE INDEX statement
 */
export function checkStatement(statement: DdlStatement): void {
  const expected = SHAPES[statement.action]
  if (expected === undefined) {
    throw new DbsnapError('INTERNAL', `no statement shape for restore step "${statement.action}"`)
  }
  const words = statementWords(statement.sql)
  if (words === null || !expected.start.test(words.join(' '))) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `the manifest's definition of ${expected.noun} ${statement.object} is not a single ${expected.kind} statement`,
      { details: { object: statement.object, step: statement.action } },
    )
  }
}

/** The opening `$tag$` (or `$$`) of a dollar-quoted string. */
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/

/** A character that starts an unquoted identifier or keyword. */
const WORD_START = /[A-Za-z_\u0080-\uffff]/
/** A character that continues one (`$` too: `a$b` is one identifier, not a dollar quote). */
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/

/**
 * The normalized words of `sql` when it is exactly one complete statement, else null. The lexer
 * follows PostgreSQL's: `'…'` strings (`''` inside; backslash escapes in `E'…'`), `"…"`
 * identifiers, `$tag$…$tag$` bodies, `--` comments to the end of the line and nested
 * `/* … *\/` comments. A `;` is allowed only between the statements of a `BEGIN ATOMIC … END`
 * body that ends a CREATE FUNCTION or PROCEDURE, where a CASE may not be open across it.
 */
export function statementWords(sql: string): string[] | null {
  const words: string[] = []
  let at = 0
  while (at < sql.length) {
    const c = sql[at]!
    const next = sql[at + 1] ?? ''
    if (/\s/.test(c)) {
      at++
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', at)
      // Open at the end, it would swallow the `;` a script writes after the statement.
      if (end === -1) return null
      at = end + 1
    } else if (c === '/' && next === '*') {
      let depth = 0
      for (; at < sql.length; at++) {
        if (sql.startsWith('/*', at)) {
          depth++
          at++
        } else if (sql.startsWith('*/', at)) {
          depth--
          at++
          if (depth === 0) break
        }
      }
      if (depth !== 0) return null
      at++
    } else if (c === "'") {
      const end = quoted(sql, at, "'", false)
      if (end === -1) return null
      words.push('S')
      at = end
    } else if (c === '"') {
      const end = quoted(sql, at, '"', false)
      if (end === -1) return null
      words.push('I')
      at = end
    } else if (c === '$' && DOLLAR_TAG.test(sql.slice(at, at + 64))) {
      const tag = DOLLAR_TAG.exec(sql.slice(at, at + 64))![0]
      const end = sql.indexOf(tag, at + tag.length)
      if (end === -1) return null
      words.push('S')
      at = end + tag.length
    } else if (WORD_START.test(c)) {
      let end = at + 1
      while (end < sql.length && WORD_CHAR.test(sql[end]!)) end++
      const word = sql.slice(at, end).toUpperCase()
      if (word === 'U' && sql[end] === '&' && (sql[end + 1] === "'" || sql[end + 1] === '"')) {
        // U&'…' and U&"…": quoted as usual, the escapes are the server's business.
        const close = quoted(sql, end + 1, sql[end + 1]!, false)
        if (close === -1) return null
        words.push(sql[end + 1] === "'" ? 'S' : 'I')
        at = close
      } else if (/^[EBXN]$/.test(word) && sql[end] === "'") {
        const close = quoted(sql, end, "'", word === 'E')
        if (close === -1) return null
        words.push('S')
        at = close
      } else {
        words.push(word)
        at = end
      }
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next))) {
      let end = at + 1
      while (end < sql.length && /[0-9.eE]/.test(sql[end]!)) end++
      words.push(sql.slice(at, end))
      at = end
    } else if (c === '\\') {
      // Not SQL outside a string; in a script, psql would take it for a meta-command.
      return null
    } else {
      words.push(c)
      at++
    }
  }
  return onlyStatement(words) ? words : null
}

/** The index after the closing quote of the quoted text opening at `at`, or -1. */
function quoted(sql: string, at: number, quote: string, backslashes: boolean): number {
  for (let i = at + 1; i < sql.length; i++) {
    const c = sql[i]
    if (backslashes && c === '\\') {
      i++
    } else if (c === quote) {
      if (sql[i + 1] === quote) i++
      else return i + 1
    }
  }
  return -1
}

/** True when the words hold no `;` but inside a routine's closing `BEGIN ATOMIC … END`. */
function onlyStatement(words: string[]): boolean {
  const routine = /^CREATE (OR REPLACE )?(FUNCTION|PROCEDURE) /.test(
    words.slice(0, 4).join(' ') + ' ',
  )
  const open: ('atomic' | 'case')[] = []
  let parens = 0
  let closed = false
  for (let i = 0; i < words.length; i++) {
    const word = words[i]
    if (closed) return false
    if (word === '(') parens++
    else if (word === ')') parens--
    else if (word === 'CASE') open.push('case')
    else if (word === 'END') {
      if (open.pop() === 'atomic') closed = true
    } else if (word === 'BEGIN' && words[i + 1] === 'ATOMIC' && routine && parens === 0) {
      if (open.length > 0) return false
      open.push('atomic')
      i++
    } else if (word === ';') {
      if (parens !== 0 || open.length !== 1 || open[0] !== 'atomic') return false
    }
  }
  return parens === 0 && open.length === 0
}
