// introspectMysql against a real MariaDB/MySQL: every object kind of fixtures/mysql/objects.sql
// in its normalized form (columns with their attributes, keys and index kinds, foreign keys,
// checks, views, routines, triggers, events, table options), and determinism.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectMysql } from '../src/adapters/mysql/mysql-source.js'
import type { SourceAdapter } from '../src/adapters/source-adapter.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import type { DatabaseSchema, TableSchema } from '../src/schema/schema.js'

const services = testServices()
const fixture = readFileSync(new URL('fixtures/mysql/objects.sql', import.meta.url), 'utf8')
const dbName = `dbsnap_introspect_${randomBytes(4).toString('hex')}`
const url = withDatabase(services.mysqlUrl, dbName)

let admin: mysql.Connection
let adapter: SourceAdapter

/** Introspects the way a snapshot does: inside the adapter's read view. */
async function introspect(): Promise<DatabaseSchema> {
  const view = await adapter.openReadView()
  try {
    return await view.introspect()
  } finally {
    await view.close()
  }
}

function table(schema: DatabaseSchema, name: string): TableSchema {
  const found = schema.tables.find((t) => t.name === name)
  if (found === undefined) throw new Error(`no table ${name} in the introspected schema`)
  return found
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true })
  await admin.query(`CREATE DATABASE \`${dbName}\``)
  await admin.query(`USE \`${dbName}\``)
  await admin.query(fixture)
  adapter = await connectMysql(parseConnectionUrl(url), {})
})

afterAll(async () => {
  await adapter?.close()
  await admin?.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
  await admin?.end()
})

describe('introspectMysql', () => {
  let schema: DatabaseSchema

  beforeAll(async () => {
    schema = await introspect()
  })

  it('lists the tables in code-unit order, with MySQL names (schema "")', () => {
    expect(schema.engine).toBe('mysql')
    expect(schema.schemas).toEqual([])
    expect(schema.tables.map((t) => [t.schema, t.name])).toEqual([
      ['', 'archive'],
      ['', 'customers'],
      ['', 'order_lines'],
      ['', 'orders'],
    ])
  })

  it('reads every column attribute', () => {
    const columns = table(schema, 'customers').columns.map((c) => ({
      name: c.name,
      type: c.type,
      encoding: c.encoding,
      nullable: c.nullable,
      default: c.default,
      generated: c.generated,
      identity: c.identity,
      collation: c.collation,
    }))
    // prettier-ignore
    expect(columns).toEqual([
      { name: 'id', type: 'int(10) unsigned', encoding: 'integer', nullable: false, default: null, generated: null, identity: 'by-default', collation: null },
      { name: 'email', type: 'varchar(190)', encoding: 'text', nullable: false, default: null, generated: null, identity: null, collation: null },
      { name: 'name', type: 'varchar(100)', encoding: 'text', nullable: false, default: "'anon'", generated: null, identity: null, collation: 'latin1_german2_ci' },
      { name: 'balance', type: 'decimal(12,2)', encoding: 'text', nullable: false, default: '0.00', generated: null, identity: null, collation: null },
      { name: 'score', type: 'float(7,3) unsigned zerofill', encoding: 'float', nullable: true, default: null, generated: null, identity: null, collation: null },
      { name: 'flags', type: 'bit(4)', encoding: 'bigint', nullable: false, default: "b'101'", generated: null, identity: null, collation: null },
      { name: 'created_at', type: 'datetime(3)', encoding: 'text', nullable: false, default: 'current_timestamp(3)', generated: null, identity: null, collation: null },
      { name: 'updated_at', type: 'timestamp(6)', encoding: 'text', nullable: true, default: null, generated: null, identity: null, collation: null },
      { name: 'email_domain', type: 'varchar(190)', encoding: 'text', nullable: true, default: null, generated: "substring_index(`email`,'@',-1)", identity: null, collation: null },
      { name: 'name_upper', type: 'varchar(100)', encoding: 'text', nullable: true, default: null, generated: 'ucase(`name`)', identity: null, collation: null },
      { name: 'bio', type: 'text', encoding: 'text', nullable: true, default: null, generated: null, identity: null, collation: null },
      { name: 'location', type: 'point', encoding: 'text', nullable: false, default: null, generated: null, identity: null, collation: null },
    ])
    const extra = (name: string): unknown =>
      table(schema, 'customers').columns.find((c) => c.name === name)?.extra
    expect(extra('id')).toMatchObject({ dataType: 'int', unsigned: true, autoIncrement: true })
    expect(extra('name')).toMatchObject({
      charset: 'latin1',
      collation: 'latin1_german2_ci',
      length: 100,
    })
    expect(extra('balance')).toMatchObject({ precision: 12, scale: 2 })
    expect(extra('score')).toMatchObject({ unsigned: true, zerofill: true, dataType: 'float' })
    expect(extra('updated_at')).toMatchObject({
      fractionalSeconds: 6,
      onUpdate: 'current_timestamp(6)',
    })
    expect(extra('email_domain')).toMatchObject({ generatedKind: 'virtual' })
    expect(extra('name_upper')).toMatchObject({ generatedKind: 'stored' })
  })

  it('reads keys and every index kind: prefix, descending, fulltext, spatial', () => {
    const customers = table(schema, 'customers')
    expect(customers.primaryKey).toEqual({ name: 'PRIMARY', columns: ['id'] })
    expect(customers.uniqueKeys).toEqual([{ name: 'customers_email', columns: ['email'] }])
    // USING only where the definition names it; the position is SHOW CREATE TABLE's order.
    expect(customers.indexes.map((i) => [i.name, i.method, i.unique, i.definition])).toEqual([
      ['PRIMARY', 'btree', true, 'PRIMARY KEY (`id`)'],
      ['customers_bio', 'fulltext', false, 'FULLTEXT KEY `customers_bio` (`bio`)'],
      ['customers_email', 'btree', true, 'UNIQUE KEY `customers_email` (`email`)'],
      ['customers_location', 'spatial', false, 'SPATIAL KEY `customers_location` (`location`)'],
      [
        'customers_name_prefix',
        'btree',
        false,
        'KEY `customers_name_prefix` (`name`(10), `balance` DESC)',
      ],
    ])
    expect(customers.indexes.find((i) => i.name === 'customers_name_prefix')?.extra).toEqual({
      subParts: [10, null],
      descending: [false, true],
      comment: null,
      visible: true,
      position: 2,
    })
    expect(table(schema, 'orders').indexes.map((i) => [i.method, i.definition])).toEqual([
      ['btree', 'PRIMARY KEY (`id`)'],
      ['btree', 'KEY `orders_customer` (`customer_id`)'],
      ['btree', 'KEY `orders_region_hash` (`region`) USING HASH'],
    ])
    expect(table(schema, 'order_lines').primaryKey?.columns).toEqual(['order_id', 'line'])
    expect(table(schema, 'order_lines').uniqueKeys).toEqual([
      { name: 'order_lines_sku', columns: ['order_id', 'sku'] },
    ])
  })

  it('reads foreign keys with their actions, and checks', () => {
    expect(table(schema, 'order_lines').foreignKeys).toEqual([
      {
        name: 'order_lines_order',
        columns: ['order_id'],
        references: { schema: '', name: 'orders', columns: ['id'] },
        onUpdate: 'cascade',
        onDelete: 'no action',
        deferrable: false,
        initiallyDeferred: false,
        definition:
          'CONSTRAINT `order_lines_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE NO ACTION ON UPDATE CASCADE',
      },
      {
        name: 'order_lines_replaced',
        columns: ['replaced_by'],
        references: { schema: '', name: 'orders', columns: ['id'] },
        onUpdate: 'restrict',
        onDelete: 'set null',
        deferrable: false,
        initiallyDeferred: false,
        definition:
          'CONSTRAINT `order_lines_replaced` FOREIGN KEY (`replaced_by`) REFERENCES `orders` (`id`) ON DELETE SET NULL ON UPDATE RESTRICT',
      },
    ])
    expect(table(schema, 'orders').foreignKeys.map((f) => [f.name, f.onDelete])).toEqual([
      ['orders_customer', 'cascade'],
    ])
    expect(table(schema, 'customers').checks).toEqual([
      { name: 'balance_positive', definition: 'CHECK (`balance` >= 0)' },
    ])
  })

  it('reads table options, comments and whether the engine is transactional', () => {
    const customers = table(schema, 'customers')
    expect(customers.comment).toBe('people who buy')
    expect(customers.extra).toMatchObject({
      engine: 'InnoDB',
      charset: 'utf8mb4',
      collation: 'utf8mb4_unicode_ci',
      rowFormat: 'Dynamic',
      transactional: true,
    })
    expect(table(schema, 'orders').extra).toMatchObject({ autoIncrement: '1000' })
    expect(table(schema, 'archive').extra).toMatchObject({
      engine: 'MyISAM',
      charset: 'latin1',
      transactional: false,
    })
  })

  it('reads views, routines, triggers and events with their definitions', () => {
    expect(schema.views).toHaveLength(1)
    expect(schema.views[0]).toMatchObject({
      schema: '',
      name: 'big_orders',
      materialized: false,
      columns: [
        { name: 'id', type: 'bigint(20)' },
        { name: 'total', type: 'decimal(10,2)' },
      ],
      extra: { checkOption: 'CASCADED', updatable: true, security: 'DEFINER' },
    })
    expect(schema.views[0]?.definition).toMatch(/^select .*`total` > 100$/)
    expect(
      schema.routines.map((r) => [r.kind, r.name, r.arguments, r.returns, r.language]),
    ).toEqual([
      ['function', 'order_total', 'p_order bigint(20)', 'decimal(10,2)', 'SQL'],
      [
        'procedure',
        'bump_balance',
        'IN p_customer int(10) unsigned, INOUT p_amount decimal(12,2)',
        null,
        'SQL',
      ],
    ])
    expect(schema.routines[1]?.definition).toMatch(
      /^CREATE DEFINER=.* PROCEDURE `bump_balance`\(IN p_customer INT UNSIGNED.*\n\s+MODIFIES SQL DATA\nBEGIN\n.*END$/s,
    )
    expect(schema.routines[0]?.extra).toMatchObject({
      deterministic: true,
      dataAccess: 'READS SQL DATA',
    })
    expect(table(schema, 'orders').triggers).toEqual([
      {
        name: 'orders_before_insert',
        // As written (SHOW CREATE TRIGGER), without its DEFINER.
        definition:
          'CREATE TRIGGER orders_before_insert BEFORE INSERT ON orders FOR EACH ROW\n  SET NEW.region = UPPER(NEW.region)',
        enabled: true,
        extra: {
          timing: 'BEFORE',
          event: 'INSERT',
          actionOrder: 1,
          definer: expect.any(String) as unknown,
          sqlMode: 'STRICT_TRANS_TABLES',
          // The loading session's (mysql2: utf8mb4), which gives the body's literals theirs.
          charsetClient: 'utf8mb4',
          collationConnection: expect.stringMatching(/^utf8mb4_/) as unknown,
        },
      },
    ])
    expect(schema.events).toEqual([
      {
        schema: '',
        name: 'purge_archive',
        definition: expect.stringMatching(
          /EVENT `purge_archive` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' .*DISABLE COMMENT 'nightly' DO DELETE FROM archive WHERE id < 0$/,
        ) as unknown,
        enabled: false,
        extra: expect.objectContaining({ status: 'DISABLED', comment: 'nightly' }) as unknown,
      },
    ])
  })

  it('gives the same schema every time', async () => {
    expect(await introspect()).toEqual(schema)
  })

  it('needs a database in the URL', async () => {
    const serverWide = await connectMysql(parseConnectionUrl(services.mysqlUrl), {})
    try {
      const view = await serverWide.openReadView()
      await expect(view.introspect()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      await view.close()
    } finally {
      await serverWide.close()
    }
  })
})
