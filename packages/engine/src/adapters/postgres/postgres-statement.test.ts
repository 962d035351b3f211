// checkStatement: what a restore runs and an SQL export writes is one statement of its step's
// kind, whatever a tampered manifest put in the definitions.

import { describe, expect, it } from 'vitest'
import { isDbsnapError } from '../../errors.js'
import { checkStatement, statementWords } from './postgres-statement.js'

function refusal(sql: string, action: string, object = 'public.t.x'): string {
  try {
    checkStatement({ sql, action, object })
  } catch (err) {
    if (isDbsnapError(err)) return `${err.code}: ${err.message}`
    throw err
  }
  return 'accepted'
}

describe('checkStatement', () => {
  it.each([
    ['create index', "CREATE INDEX i ON public.t USING btree (lower(a)) WHERE (b <> ';'::text)"],
    ['create index', 'CREATE UNIQUE INDEX "I;" ON public.t USING btree (a) INCLUDE (b)'],
    ['add check', `ALTER TABLE "s"."t" ADD CONSTRAINT "c" CHECK ((a ~ E'\\\\'';'::text))`],
    [
      'add foreign key',
      'ALTER TABLE "s"."t" ADD CONSTRAINT "f" FOREIGN KEY (a) REFERENCES s.u(id)',
    ],
    [
      'create function',
      'CREATE OR REPLACE FUNCTION public.f()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n  NEW.a := 1; -- set\n  RETURN NEW;\nEND\n$function$\n',
    ],
    [
      'create function',
      'CREATE OR REPLACE FUNCTION public.g(x integer)\n RETURNS integer\n LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN (x > 0) THEN 1 ELSE 0 END AS s;\n SELECT 2;\nEND',
    ],
    [
      'create view',
      'CREATE OR REPLACE VIEW "s"."v" WITH (security_barrier) AS  SELECT 1 AS one /* a; b */',
    ],
    [
      'create materialized view',
      'CREATE MATERIALIZED VIEW "s"."m" AS  WITH x AS (SELECT 1) SELECT * FROM x WITH NO DATA',
    ],
    [
      'attach partition',
      `ALTER TABLE "s"."p" ATTACH PARTITION "s"."c" FOR VALUES FROM ('a;') TO ('b')`,
    ],
    ['set sequence value', `SELECT pg_catalog.setval('"s"."q"', -10, false)`],
    ['create table', `CREATE TABLE "s"."t" ("a" text DEFAULT U&'\\0041;' COLLATE "C", "b$" int)`],
  ])('accepts %s: %s', (action, sql) => {
    expect(refusal(sql, action)).toBe('accepted')
  })

  it.each([
    ['two statements', 'create index', 'CREATE INDEX i ON t (a); CREATE TABLE pwned(x int)'],
    [
      'a default that closes the statement',
      'create table',
      `CREATE TABLE "s"."t" ("a" text DEFAULT 'x'::text); CREATE TABLE pwned(x int); --)`,
    ],
    ['another kind', 'create index', 'CREATE TABLE pwned(x int)'],
    [
      'another constraint kind',
      'add check',
      'ALTER TABLE "s"."t" ADD CONSTRAINT "c" FOREIGN KEY (a) REFERENCES u',
    ],
    ['a quote left open', 'create index', "CREATE INDEX i ON t (a) WHERE b = 'x"],
    [
      'an E string that escapes its quote',
      'add check',
      `ALTER TABLE "s"."t" ADD CONSTRAINT "c" CHECK (a = E'\\''); CREATE TABLE pwned(x int); --')`,
    ],
    [
      'a dollar quote left open',
      'create function',
      'CREATE FUNCTION f() RETURNS int AS $x$ select 1',
    ],
    ['a comment left open', 'create index', 'CREATE INDEX i ON t (a) /* /* */'],
    ['a line comment at the end', 'create index', 'CREATE INDEX i ON t (a) --'],
    ['a psql meta-command', 'create index', 'CREATE INDEX i ON t (a) \\! touch /tmp/pwned'],
    [
      'BEGIN ATOMIC outside a routine',
      'create index',
      'CREATE INDEX i ON t (a) BEGIN ATOMIC; CREATE TABLE pwned(x int); END',
    ],
    [
      'BEGIN as a value in a routine',
      'create function',
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1' SET search_path = begin; CREATE TABLE pwned(x int); SELECT 1 AS end",
    ],
    [
      'a CASE open across a statement of a body',
      'create function',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS case; END; CREATE TABLE pwned(x int); SELECT 1 AS end',
    ],
    [
      'text after the body',
      'create function',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; CREATE TABLE pwned(x int)',
    ],
    [
      'a position that is not a number',
      'set sequence value',
      `SELECT pg_catalog.setval('"s"."q"', (SELECT 1), true)`,
    ],
    [
      'a view that is not a query',
      'create view',
      'CREATE OR REPLACE VIEW "s"."v" AS DELETE FROM t RETURNING 1',
    ],
  ])('refuses %s', (_, action, sql) => {
    expect(refusal(sql, action)).toMatch(
      /^DATA_CORRUPT: the manifest's definition of .* public\.t\.x is not a single .* statement$/,
    )
  })

  it('names the object and the kind', () => {
    expect(
      refusal('CREATE INDEX i ON t (a); CREATE TABLE pwned(x int)', 'create index', 'public.t.i'),
    ).toBe(
      "DATA_CORRUPT: the manifest's definition of index public.t.i is not a single CREATE INDEX statement",
    )
  })

  it('knows every restore step: an unknown one is a bug, not a pass', () => {
    expect(refusal('SELECT 1', 'run anything')).toMatch(/^INTERNAL: /)
  })

  it('normalizes words, quoted names and strings', () => {
    expect(statementWords(`create index "I" on s.t (a) where b = E'\\''`)).toEqual([
      'CREATE',
      'INDEX',
      'I',
      'ON',
      'S',
      '.',
      'T',
      '(',
      'A',
      ')',
      'WHERE',
      'B',
      '=',
      'S',
    ])
  })
})
