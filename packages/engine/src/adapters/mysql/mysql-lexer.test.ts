import { describe, expect, it } from 'vitest'
import { checkStatement, lexMysql, type StatementKind } from './mysql-lexer.js'

/** The problem checkStatement finds, or null for a good statement. */
function problem(
  sql: string,
  kind: StatementKind,
  name: string,
  sqlMode: string | null = null,
): string | null {
  try {
    checkStatement(sql, kind, name, { object: `${kind.toLowerCase()} ${name}`, sqlMode })
    return null
  } catch (err) {
    expect(err).toMatchObject({ code: 'DATA_CORRUPT' })
    return (err as Error).message
  }
}

describe('lexMysql', () => {
  it('skips comments, keeps strings and identifiers whole, and reads versioned comments as code', () => {
    const tokens = lexMysql(
      "SELECT 'a;b', `c;d` -- e;f\n# g;h\n/* i;j */ /*!50001 k; */ /*M!100600 l */ 1--1",
    )
    expect(tokens.map((t) => t.text)).toEqual([
      'SELECT',
      "'a;b'",
      ',',
      '`c;d`',
      'K',
      ';',
      'L',
      '1',
      '-',
      '-',
      '1',
    ])
  })

  it('reads backslashes in strings as the sql_mode says', () => {
    expect(lexMysql("'a\\'b'").map((t) => t.text)).toEqual(["'a\\'b'"])
    expect(() => lexMysql("'a\\'b'", { noBackslashEscapes: true })).toThrow(/does not end/)
    expect(lexMysql("'a\\'", { noBackslashEscapes: true }).map((t) => t.text)).toEqual(["'a\\'"])
  })
})

describe('checkStatement', () => {
  it('takes the statements snapshots hold', () => {
    expect(
      problem(
        "CREATE DEFINER=`root`@`%` PROCEDURE `p`(IN x INT)\nBEGIN\n  DECLARE n INT DEFAULT 0; -- a;b\n  lbl: LOOP\n    IF x > 0 THEN SET n = CASE WHEN x > 1 THEN 2 ELSE 1 END; END IF;\n    LEAVE lbl;\n  END LOOP lbl;\n  CASE n WHEN 1 THEN SELECT ';'; ELSE BEGIN END; END CASE;\nEND",
        'PROCEDURE',
        'p',
      ),
    ).toBeNull()
    expect(
      problem(
        'CREATE FUNCTION `f`() RETURNS int(11)\n    DETERMINISTIC\nRETURN 1',
        'FUNCTION',
        'f',
      ),
    ).toBeNull()
    expect(
      problem(
        'CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`a`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `x` WITH LOCAL CHECK OPTION',
        'VIEW',
        'v',
      ),
    ).toBeNull()
    expect(
      problem('CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', 'TRIGGER', 'tr'),
    ).toBeNull()
    expect(
      problem(
        "CREATE TABLE `t` (\n  `a` int NOT NULL DEFAULT (1 + 1) COMMENT 'x;y',\n  KEY `k` (`a`) /*!80000 INVISIBLE */ /*M!100600 IGNORED */\n) ENGINE=InnoDB",
        'TABLE',
        't',
      ),
    ).toBeNull()
  })

  it.each([
    ['CREATE TABLE `t` (a int); CREATE TABLE pwned (x int)', 'TABLE', 't', /";"/],
    ['CREATE TABLE `t` (a int) /*!50000 ; DROP TABLE x */', 'TABLE', 't', /";"/],
    ['CREATE PROCEDURE `p`() BEGIN SELECT 1; END; DROP TABLE x', 'PROCEDURE', 'p', /";"/],
    ['CREATE PROCEDURE `p`() SELECT 1; DROP TABLE x', 'PROCEDURE', 'p', /";"/],
    [
      'CREATE PROCEDURE `p`() BEGIN SELECT 1; END END; DROP TABLE x',
      'PROCEDURE',
      'p',
      /END without/,
    ],
    ['CREATE PROCEDURE `p`() BEGIN SELECT 1;', 'PROCEDURE', 'p', /BEGIN without/],
    ['CREATE VIEW `v` AS select 1 \\! rm -rf /', 'VIEW', 'v', /backslash/],
    ['CREATE VIEW `v` AS select 1\nDELIMITER ;', 'VIEW', 'v', /DELIMITER/],
    ["CREATE VIEW `v` AS select 'a", 'VIEW', 'v', /string that does not end/],
    ['CREATE VIEW `v` AS select 1 /* x', 'VIEW', 'v', /comment that does not end/],
    ['CREATE TABLE pwned (x int)', 'FUNCTION', 'f', /creates TABLE/],
    ['CREATE FUNCTION `other`() RETURNS int RETURN 1', 'FUNCTION', 'f', /names "other"/],
    ['DROP TABLE t', 'TABLE', 't', /does not start with CREATE/],
  ] as const)('refuses %s', (sql, kind, name, message) => {
    expect(problem(sql, kind, name)).toMatch(message)
  })

  it('reads strings under the object sql_mode and as the mysql client splits a script', () => {
    const sql = "CREATE PROCEDURE `p`() SELECT 'a\\'; DROP TABLE x; -- '"
    expect(problem(sql, 'PROCEDURE', 'p')).toBeNull()
    expect(problem(sql, 'PROCEDURE', 'p', 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES')).toMatch(
      /";"/,
    )
    // ANSI_QUOTES: "…" is an identifier for the server, a string for the mysql client.
    expect(
      problem(
        'CREATE VIEW `v` AS select "a\\" AS x; DROP TABLE y; -- "',
        'VIEW',
        'v',
        'ANSI_QUOTES',
      ),
    ).toMatch(/";"/)
  })
})
