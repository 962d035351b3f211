import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { CanonicalRow, CanonicalValue } from '../../canonical/value-encoding.js'
import type { ColumnSchema, TableSchema } from '../../schema/schema.js'
import { tableRowsOf } from '../../repository/snapshot-rows.js'
import {
  conflictClause,
  fieldFor,
  infileShape,
  insertShape,
  insertStatements,
  literalFor,
  mysqlSql,
} from './mysql-sql.js'
import type { MysqlValueKind } from './mysql-values.js'

const column = (
  name: string,
  dataType: string,
  over: Partial<ColumnSchema> = {},
): ColumnSchema => ({
  name,
  type: dataType,
  encoding: 'text',
  nullable: true,
  default: null,
  generated: null,
  identity: null,
  collation: null,
  extra: { dataType },
  ...over,
})

const table: TableSchema = {
  schema: '',
  name: 't',
  kind: 'table',
  columns: [
    column('id', 'int'),
    column('name', 'varchar'),
    column('upper', 'varchar', { generated: 'ucase(`name`)' }),
    column('data', 'blob'),
  ],
  primaryKey: { name: 'PRIMARY', columns: ['id'] },
  uniqueKeys: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  triggers: [
    {
      name: 'g',
      definition:
        'CREATE TRIGGER `g` BEFORE INSERT ON `t` FOR EACH ROW BEGIN SET NEW.id = NEW.id; END',
      enabled: true,
      extra: { definer: 'root@%', sqlMode: 'STRICT_TRANS_TABLES', actionOrder: 1 },
    },
  ],
  partitionOf: null,
  partitionBy: null,
  comment: null,
  estimatedRows: null,
  estimatedBytes: null,
  extra: { engine: 'InnoDB', charset: 'utf8mb4', collation: 'utf8mb4_bin' },
}

function batches(rows: CanonicalRow[], size = 2): AsyncIterable<CanonicalRow[]> {
  const out: CanonicalRow[][] = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return Readable.from(out)
}

describe('literalFor: the inverse of the source read', () => {
  it.each<[MysqlValueKind, string, CanonicalValue, string]>([
    ['integer', 'int', -42, '-42'],
    ['integer', 'year', 0, '0'],
    ['bigint', 'bigint', '18446744073709551615', '18446744073709551615'],
    ['bit', 'bit', 5, '5'],
    ['float', 'double', 0.1, '0.1e0'],
    ['float', 'double', 5e-324, '5e-324'],
    ['float', 'float', 1.401298464324817e-45, '1.401298464324817e-45'],
    ['float', 'double', '-0', '-0e0'],
    ['bytes', 'varbinary', '00ff', "X'00ff'"],
    ['bytes', 'blob', '', "X''"],
    ['geometry', 'point', '000000000101000000', "X'000000000101000000'"],
    ['text', 'decimal', '-12.50', '-12.50'],
    ['text', 'datetime', '2024-02-29 13:45:00.123456', "'2024-02-29 13:45:00.123456'"],
    ['text', 'varchar', "it's", "'it\\'s'"],
    ['text', 'json', '{"a": "\\"x\\""}', '\'{"a": "\\\\"x\\\\""}\''],
    ['text', 'int', null, 'NULL'],
  ])('%s %s %j -> %s', (kind, dataType, value, literal) => {
    expect(literalFor(kind, dataType)(value)).toBe(literal)
  })

  it.each<[MysqlValueKind, CanonicalValue]>([
    ['integer', 'x'],
    ['integer', 1.5],
    ['float', 'NaN'],
    ['bytes', "00' OR 1"],
    ['text', 1],
  ])('refuses %s %j as DATA_CORRUPT', (kind, value) => {
    expect(() => literalFor(kind, 'x')(value)).toThrow(
      expect.objectContaining({ code: 'DATA_CORRUPT' }),
    )
  })
})

describe('fieldFor: LOAD DATA fields', () => {
  it.each<[MysqlValueKind, string, CanonicalValue, string]>([
    ['integer', 'int', -42, '-42'],
    ['integer', 'year', 0, '0000'],
    ['integer', 'year', 2024, '2024'],
    ['bit', 'bit', '18446744073709551615', '18446744073709551615'],
    ['float', 'double', 0.1, '0.1e0'],
    ['bytes', 'blob', '00ff', '00ff'],
    ['text', 'decimal', '-1.50', '-1.50'],
    ['text', 'varchar', 'tab\there\nnew\\', 'tab\\there\\nnew\\\\'],
    ['text', 'varchar', 'a\tb\nc\rd\0e\\f', 'a\\tb\\nc\\rd\\0e\\\\f'],
    ['text', 'varchar', '\\N', '\\\\N'],
    ['text', 'varchar', '', ''],
    ['text', 'varchar', null, '\\N'],
    ['bytes', 'blob', null, '\\N'],
  ])('%s %s %j -> %j', (kind, dataType, value, field) => {
    expect(fieldFor(kind, dataType)(value)).toBe(field)
  })

  it('loads bytes and bits through variables, without generated columns', () => {
    const shape = infileShape({
      ...table,
      columns: [...table.columns, column('flags', 'bit')],
    })
    expect(shape.statement).toBe(
      "LOAD DATA LOCAL INFILE 'dbsnap-rows' INTO TABLE `t` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`, `name`, @c3, @c4) SET `data` = UNHEX(@c3), `flags` = CAST(@c4 AS UNSIGNED)",
    )
    expect(shape.line([1, 'a\tb', 'A\tB', 'ff', 5])).toBe('1\ta\\tb\tff\t5\n')
    expect(shape.line([2, null, null, null, null])).toBe('2\t\\N\t\\N\t\\N\n')
  })
})

describe('insert statements', () => {
  it('leaves generated columns out', () => {
    const shape = insertShape(table)
    expect(shape.head).toBe('INSERT INTO `t` (`id`, `name`, `data`) VALUES ')
    expect(shape.tuple([1, 'a', 'A', 'ff'])).toBe("(1,'a',X'ff')")
  })

  it('bounds each statement in bytes, a longer row alone', async () => {
    const rows: CanonicalRow[] = [
      [1, 'a', 'A', null],
      [2, 'b', 'B', null],
      [3, 'x'.repeat(200), 'X', null],
      [4, 'd', 'D', null],
    ]
    const statements = []
    for await (const s of insertStatements(table, batches(rows), { maxBytes: 80, tail: ' T' })) {
      statements.push(s)
    }
    expect(statements.map((s) => s.rows)).toEqual([2, 1, 1])
    expect(statements[0]!.sql).toBe(
      "INSERT INTO `t` (`id`, `name`, `data`) VALUES (1,'a',NULL),(2,'b',NULL) T",
    )
    expect(statements.every((s) => s.sql.endsWith(' T'))).toBe(true)
  })

  it.each([
    ['fail', ''],
    ['skip', ' ON DUPLICATE KEY UPDATE `id`=`id`'],
    [
      'update',
      ' ON DUPLICATE KEY UPDATE `id`=VALUES(`id`), `name`=VALUES(`name`), `data`=VALUES(`data`)',
    ],
  ] as const)('on conflict %s: %j', (onConflict, clause) => {
    expect(conflictClause(table, onConflict)).toBe(clause)
  })
})

describe('mysqlSql', () => {
  const objects = {
    schema: {
      engine: 'mysql' as const,
      schemas: [],
      tables: [table],
      views: [],
      routines: [
        {
          schema: '',
          name: 'p',
          kind: 'procedure' as const,
          arguments: '',
          returns: null,
          language: 'SQL',
          definition: 'CREATE DEFINER=`root`@`%` PROCEDURE `p`()\nBEGIN\n  SELECT 1;\nEND',
          extra: { definer: 'root@%', sqlMode: 'ANSI_QUOTES' },
        },
      ],
      sequences: [],
      enums: [],
      domains: [],
      compositeTypes: [],
      extensions: [],
      events: [],
    },
    tables: [table],
    whole: true,
  }

  it('starts with the session settings and creates each table', () => {
    const pre = mysqlSql.preData(objects)
    expect(pre).toMatch(/^-- DBSnap export/)
    expect(pre).toContain("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';")
    expect(pre).toContain("SET SESSION time_zone = '+00:00';")
    expect(pre).toContain('SET SESSION foreign_key_checks = 0;')
    expect(pre).toContain('SET SESSION unique_checks = 0;')
    expect(pre).toContain('DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (')
  })

  it('writes rows in one transaction', async () => {
    let out = ''
    for await (const text of mysqlSql.tableData(table, tableRowsOf(batches([[1, 'a', 'A', '00']]))))
      out += text
    expect(out).toBe(
      "\n-- Rows of `t`\nSTART TRANSACTION;\nINSERT INTO `t` (`id`, `name`, `data`) VALUES (1,'a',X'00');\nCOMMIT;\n",
    )
  })

  it('creates triggers and routines between DELIMITER lines, under their sql_mode, without DEFINER', () => {
    const post = mysqlSql.postData(objects)
    expect(post).toContain(
      "SET SESSION sql_mode = 'STRICT_TRANS_TABLES';\nDELIMITER ;;\nCREATE TRIGGER `g` BEFORE INSERT ON `t` FOR EACH ROW BEGIN SET NEW.id = NEW.id; END;;\nDELIMITER ;\nSET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';",
    )
    expect(post).toContain('DROP PROCEDURE IF EXISTS `p`;')
    expect(post).toContain(
      "SET SESSION sql_mode = 'ANSI_QUOTES';\nDELIMITER ;;\nCREATE PROCEDURE `p`()",
    )
    expect(post).not.toContain('DEFINER')
  })
})
