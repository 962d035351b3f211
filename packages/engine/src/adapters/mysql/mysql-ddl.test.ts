import { describe, expect, it } from 'vitest'
import type { ColumnSchema, TableSchema, ViewSchema } from '../../schema/schema.js'
import {
  columnDefinition,
  createTableStatement,
  defaultExpression,
  definerClause,
  delimiterFor,
  indexDefinition,
  quoteString,
  sourceDatabaseOf,
  tableOptions,
  triggerStatement,
  unqualified,
  viewStatement,
  viewsInDependencyOrder,
  withoutDefiner,
} from './mysql-ddl.js'

const column = (
  over: Partial<ColumnSchema> & { extra?: Record<string, unknown> },
): ColumnSchema => ({
  name: 'c',
  type: 'int(11)',
  encoding: 'integer',
  nullable: true,
  default: null,
  generated: null,
  identity: null,
  collation: null,
  ...over,
})

const table = (over: Partial<TableSchema>): TableSchema => ({
  schema: '',
  name: 't',
  kind: 'table',
  columns: [column({ name: 'id', nullable: false })],
  primaryKey: null,
  uniqueKeys: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  triggers: [],
  partitionOf: null,
  partitionBy: null,
  comment: null,
  estimatedRows: null,
  estimatedBytes: null,
  ...over,
})

const view = (
  name: string,
  definition: string,
  extra: Record<string, unknown> = {},
): ViewSchema => ({
  schema: '',
  name,
  materialized: false,
  definition,
  columns: [],
  indexes: [],
  extra,
})

describe('quoteString', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ['a\nb\rc\0d\x1ae', "'a\\nb\\rc\\0d\\Ze'"],
    ['{"json": "quotes"}', '\'{"json": "quotes"}\''],
    ['tab\tstays', "'tab\tstays'"],
  ])('%j -> %s', (text, literal) => {
    expect(quoteString(text)).toBe(literal)
  })
})

describe('definers', () => {
  it('quotes user@host, splitting at the last @', () => {
    expect(definerClause('root@127.0.0.1')).toBe('`root`@`127.0.0.1`')
    expect(definerClause('a@b@%')).toBe('`a@b`@`%`')
  })

  it.each([
    [
      'CREATE DEFINER=`root`@`localhost` FUNCTION `f`() RETURNS int RETURN 1',
      'CREATE FUNCTION `f`() RETURNS int RETURN 1',
    ],
    [
      "CREATE DEFINER='x'@'%' EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1",
      'CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1',
    ],
    ['CREATE DEFINER=`we``ird`@`%` PROCEDURE `p`() SELECT 1', 'CREATE PROCEDURE `p`() SELECT 1'],
    ['CREATE PROCEDURE `p`() SELECT 1', 'CREATE PROCEDURE `p`() SELECT 1'],
  ])('withoutDefiner(%s)', (definition, expected) => {
    expect(withoutDefiner(definition)).toBe(expected)
  })

  it('adds a kept definer to a trigger, leaves a dropped one out', () => {
    const trigger = {
      name: 'g',
      definition: 'CREATE TRIGGER `g` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 1',
      enabled: true,
      extra: { definer: 'app@%' },
    }
    expect(triggerStatement(trigger, () => true)).toBe(
      'CREATE DEFINER=`app`@`%` TRIGGER `g` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 1',
    )
    expect(triggerStatement(trigger, () => false)).toBe(trigger.definition)
  })
})

describe('columns and tables', () => {
  it.each([
    [{}, '`c` int(11) NULL'],
    [{ nullable: false, default: '0' }, '`c` int(11) NOT NULL DEFAULT 0'],
    [
      { nullable: false, identity: 'by-default' as const, extra: { autoIncrement: true } },
      '`c` int(11) NOT NULL AUTO_INCREMENT',
    ],
    [
      {
        type: 'varchar(10)',
        default: "'a''b'",
        comment: "it's",
        extra: { charset: 'latin1', collation: 'latin1_bin', invisible: true },
      },
      "`c` varchar(10) CHARACTER SET latin1 COLLATE latin1_bin NULL DEFAULT 'a''b' INVISIBLE COMMENT 'it\\'s'",
    ],
    [
      { type: 'timestamp(6)', extra: { onUpdate: 'current_timestamp(6)' } },
      '`c` timestamp(6) NULL ON UPDATE current_timestamp(6)',
    ],
    [
      { generated: 'ucase(`name`)', extra: { generatedKind: 'stored' } },
      '`c` int(11) GENERATED ALWAYS AS (ucase(`name`)) STORED',
    ],
    [
      { generated: '`a` + 1', extra: { generatedKind: 'virtual' } },
      '`c` int(11) GENERATED ALWAYS AS (`a` + 1) VIRTUAL',
    ],
  ])('%j', (over, sql) => {
    expect(columnDefinition(column(over))).toBe(sql)
  })

  it.each([
    ["'x'", "'x'"],
    ['-1.5', '-1.5'],
    ["b'101'", "b'101'"],
    ['current_timestamp(3)', 'current_timestamp(3)'],
    ['NULL', 'NULL'],
    ["concat('a','b')", "(concat('a','b'))"],
    ['(1 + 1)', '((1 + 1))'],
    ['uuid()', '(uuid())'],
  ])('defaultExpression(%s) = %s', (value, expected) => {
    expect(defaultExpression(value)).toBe(expected)
  })

  it('writes an index with its comment and, hidden, for both servers', () => {
    expect(
      indexDefinition({
        name: 'k',
        unique: false,
        method: 'btree',
        columns: ['a'],
        predicate: null,
        definition: 'KEY `k` (`a`) USING BTREE',
        constraint: false,
        extra: { comment: "why's", visible: false },
      }),
    ).toBe(
      "KEY `k` (`a`) USING BTREE COMMENT 'why\\'s' /*!80000 INVISIBLE */ /*M!100600 IGNORED */",
    )
  })

  it('repeats only explicit create options, with the next AUTO_INCREMENT value', () => {
    const options = tableOptions(
      table({
        comment: 'c',
        extra: {
          engine: 'InnoDB',
          charset: 'utf8mb4',
          collation: 'utf8mb4_bin',
          rowFormat: 'Dynamic',
          createOptions: 'row_format=COMPRESSED partitioned `page_compressed`=1',
          autoIncrement: '1000',
        },
      }),
    )
    expect(options).toBe(
      "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin AUTO_INCREMENT=1000 row_format=COMPRESSED `page_compressed`=1 COMMENT='c'",
    )
  })

  it('creates a table with keys, checks and foreign keys, the primary key first', () => {
    const sql = createTableStatement(
      table({
        indexes: [
          {
            name: 'a_key',
            unique: true,
            method: 'btree',
            columns: ['id'],
            predicate: null,
            definition: 'UNIQUE KEY `a_key` (`id`) USING BTREE',
            constraint: true,
          },
          {
            name: 'PRIMARY',
            unique: true,
            method: 'btree',
            columns: ['id'],
            predicate: null,
            definition: 'PRIMARY KEY (`id`) USING BTREE',
            constraint: true,
          },
        ],
        checks: [{ name: 'pos', definition: 'CHECK (`id` > 0)' }],
        foreignKeys: [
          {
            name: 'fk',
            columns: ['id'],
            references: { schema: '', name: 'p', columns: ['id'] },
            onUpdate: 'restrict',
            onDelete: 'cascade',
            deferrable: false,
            initiallyDeferred: false,
            definition:
              'CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `p` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT',
          },
        ],
      }),
    )
    expect(sql).toBe(
      [
        'CREATE TABLE `t` (',
        '  `id` int(11) NOT NULL,',
        '  PRIMARY KEY (`id`) USING BTREE,',
        '  UNIQUE KEY `a_key` (`id`) USING BTREE,',
        '  CONSTRAINT `pos` CHECK (`id` > 0),',
        '  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `p` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT',
        ') ',
      ].join('\n'),
    )
  })
})

describe('views', () => {
  it('removes the database qualifier outside strings', () => {
    expect(
      unqualified(
        "select `shop`.`t`.`a` AS `a`,'`shop`.x' AS `s` from `shop`.`t` join `other`.`u`",
        'shop',
      ),
    ).toBe("select `t`.`a` AS `a`,'`shop`.x' AS `s` from `t` join `other`.`u`")
    expect(unqualified('select `shop` from `shop`.`t`', 'shop')).toBe('select `shop` from `t`')
  })

  it("finds the source database from the views' qualifiers", () => {
    const schema = {
      engine: 'mysql' as const,
      schemas: [],
      tables: [table({ name: 'orders' })],
      views: [view('v', 'select `shop`.`orders`.`id` AS `id` from `shop`.`orders` join `x`.`y`')],
      routines: [],
      sequences: [],
      enums: [],
      domains: [],
      compositeTypes: [],
      extensions: [],
    }
    expect(sourceDatabaseOf(schema)).toBe('shop')
    expect(sourceDatabaseOf({ ...schema, views: [view('v', 'select 1 AS `1`')] })).toBeNull()
  })

  it('orders views on views after the views they read', () => {
    const views = [
      view('a', 'select `c`.`x` AS `x` from `c`'),
      view('b', 'select `t`.`x` AS `x` from `t`'),
      view('c', 'select `b`.`x` AS `x` from `b`'),
    ]
    expect(viewsInDependencyOrder(views).map((v) => v.name)).toEqual(['b', 'c', 'a'])
  })

  it('writes CREATE OR REPLACE VIEW with its options', () => {
    const v = view('v', 'select `shop`.`t`.`a` AS `a` from `shop`.`t`', {
      algorithm: 'MERGE',
      definer: 'root@%',
      security: 'INVOKER',
      checkOption: 'CASCADED',
    })
    expect(viewStatement(v, () => true, 'shop')).toBe(
      'CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`root`@`%` SQL SECURITY INVOKER VIEW `v` AS select `t`.`a` AS `a` from `t` WITH CASCADED CHECK OPTION',
    )
    expect(viewStatement({ ...v, extra: { checkOption: 'NONE' } }, () => false, null)).toBe(
      'CREATE OR REPLACE VIEW `v` AS select `shop`.`t`.`a` AS `a` from `shop`.`t`',
    )
  })
})

it('picks a delimiter the body does not hold', () => {
  expect(delimiterFor('BEGIN SELECT 1; END')).toBe(';;')
  expect(delimiterFor("BEGIN SELECT ';;'; END")).toBe('$$')
})
