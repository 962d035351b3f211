// introspectPostgres against a real PostgreSQL: every object kind of fixtures/postgres/objects.sql
// in its exact normalized form, extension members left out, determinism and speed.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { format, resolveConfig } from 'prettier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  introspectPostgres,
  type IntrospectPostgresOptions,
  type PgQueryable,
} from '../src/adapters/postgres/postgres-introspect.js'
import { SQL_SET } from '../src/adapters/postgres/postgres-catalog.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import type {
  CommentSchema,
  DatabaseSchema,
  RoutineSchema,
  TableSchema,
} from '../src/schema/schema.js'
import { testServices, withDatabase } from '../../../test/services.js'

const services = testServices()
const fixture = readFileSync(new URL('fixtures/postgres/objects.sql', import.meta.url), 'utf8')

/** A fresh, empty database for one test group; its afterAll drops it WITH (FORCE). */
async function freshDatabase(admin: pg.Client, purpose: string): Promise<string> {
  const name = `dbsnap_introspect_${purpose}_${randomBytes(4).toString('hex')}`
  await admin.query(`CREATE DATABASE ${name}`)
  return name
}

async function connect(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: withDatabase(services.pgUrl, database) })
  await client.connect()
  return client
}

/** Introspects the way a snapshot does: inside a REPEATABLE READ READ ONLY transaction. */
async function introspect(
  client: pg.Client,
  options?: IntrospectPostgresOptions,
): Promise<DatabaseSchema> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    return await introspectPostgres(client, options)
  } finally {
    await client.query('ROLLBACK')
  }
}

function table(schema: DatabaseSchema, qualified: string): TableSchema {
  const found = schema.tables.find((t) => `${t.schema}.${t.name}` === qualified)
  if (found === undefined) throw new Error(`no table ${qualified} in the introspected schema`)
  return found
}

/** OIDs of user-defined types differ from one database to the next; built-in ones do not. */
function withStableOids(schema: DatabaseSchema): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === 'typeOid' && typeof value === 'number' && value >= 16384 ? 'user-defined' : value,
  )
}

const userTypeOid = expect.any(Number) as unknown as number

/** The fields every plain column of the fixture shares. */
const plain = {
  default: null,
  generated: null,
  identity: null,
  collation: null,
  comment: null,
} as const

const pgType = (typeOid: number, typeName: string) => ({
  typeOid,
  typeName,
  typeSchema: 'pg_catalog',
  baseType: typeName,
})

const noIndexExtra = { include: [], nullsNotDistinct: false, valid: true, parent: null }
const plainTableExtra = {
  unlogged: false,
  rowSecurity: false,
  forceRowSecurity: false,
  options: [],
  inherits: [],
  exclusionConstraints: [],
}

describe('introspectPostgres (DBSNAP_TEST_PG_URL)', () => {
  let admin: pg.Client
  let database: string
  let client: pg.Client
  let version: number
  let schema: DatabaseSchema

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: services.pgUrl })
    await admin.connect()
    database = await freshDatabase(admin, 'objects')
    client = await connect(database)
    await client.query(fixture)
    const { rows } = await client.query<{ v: number }>(
      `SELECT current_setting('server_version_num')::int AS v`,
    )
    version = rows[0]!.v
    if (version >= 150000) {
      await client.query(
        'ALTER TABLE public.customers ADD CONSTRAINT customers_code_key UNIQUE NULLS NOT DISTINCT (code)',
      )
    }
    schema = await introspect(client)
  })

  afterAll(async () => {
    await client?.end()
    if (database !== undefined) await admin?.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin?.end()
  })

  it('lists the user schemas, not the system ones, and the built-in extension', () => {
    expect(schema.engine).toBe('postgres')
    expect(schema.schemas).toEqual(['public', 'sales', 'Ünïcode Space'])
    expect(schema.extensions).toEqual([{ name: 'plpgsql', schema: 'pg_catalog', version: '1.0' }])
  })

  it('sorts tables by schema and name, partitions and children included', () => {
    expect(schema.tables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      'public.bookings',
      'public.cache',
      'public.customers',
      'public.event_log',
      'public.event_log_archive',
      'public.measurement_notes',
      'public.measurements',
      'public.measurements_2024',
      'public.measurements_2025',
      'sales.Order Items ✓',
      'sales.orders',
      'Ünïcode Space.Empty Table',
    ])
  })

  it('reads quoted identifiers, a composite key in key order, a generated column and a deferrable cascading foreign key', () => {
    expect(table(schema, 'sales.Order Items ✓')).toEqual({
      schema: 'sales',
      name: 'Order Items ✓',
      kind: 'table',
      columns: [
        {
          name: 'line_no',
          type: 'smallint',
          encoding: 'integer',
          nullable: false,
          ...plain,
          extra: pgType(21, 'int2'),
        },
        {
          name: 'Order Id',
          type: 'bigint',
          encoding: 'bigint',
          nullable: false,
          ...plain,
          extra: pgType(20, 'int8'),
        },
        {
          name: 'Qty',
          type: 'integer',
          encoding: 'integer',
          nullable: false,
          ...plain,
          extra: pgType(23, 'int4'),
        },
        {
          name: 'unit price',
          type: 'numeric(10,2)',
          encoding: 'text',
          nullable: false,
          ...plain,
          extra: pgType(1700, 'numeric'),
        },
        {
          name: 'total',
          type: 'numeric',
          encoding: 'text',
          nullable: true,
          ...plain,
          generated: '(("Qty")::numeric * "unit price")',
          extra: pgType(1700, 'numeric'),
        },
        {
          name: 'note',
          type: 'character varying(200)',
          encoding: 'text',
          nullable: true,
          ...plain,
          extra: pgType(1043, 'varchar'),
        },
      ],
      primaryKey: {
        name: 'Order Items ✓_pkey',
        columns: ['Order Id', 'line_no'],
        extra: {
          definition: 'PRIMARY KEY ("Order Id", line_no)',
          deferrable: false,
          initiallyDeferred: false,
          nullsNotDistinct: false,
          inherited: false,
        },
      },
      uniqueKeys: [],
      indexes: [
        {
          name: 'Order Items ✓_pkey',
          unique: true,
          method: 'btree',
          columns: ['Order Id', 'line_no'],
          predicate: null,
          definition:
            'CREATE UNIQUE INDEX "Order Items ✓_pkey" ON sales."Order Items ✓" USING btree ("Order Id", line_no)',
          constraint: true,
          extra: noIndexExtra,
        },
      ],
      foreignKeys: [
        {
          name: 'order_items_order_fk',
          columns: ['Order Id'],
          references: { schema: 'sales', name: 'orders', columns: ['id'] },
          onUpdate: 'no action',
          onDelete: 'cascade',
          deferrable: true,
          initiallyDeferred: true,
          definition:
            'FOREIGN KEY ("Order Id") REFERENCES sales.orders(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
          extra: { inherited: false },
        },
      ],
      checks: [
        {
          name: 'Order Items ✓_Qty_check',
          definition: 'CHECK (("Qty" > 0))',
          extra: { inherited: false },
        },
      ],
      triggers: [],
      rules: [],
      partitionOf: null,
      partitionBy: null,
      comment: null,
      estimatedRows: 3,
      estimatedBytes: 8192,
      extra: plainTableExtra,
    } satisfies TableSchema)
  })

  it('reads identity, defaults, collations, domain/enum/composite/array types and comments', () => {
    const customers = table(schema, 'public.customers')
    expect(customers.comment).toBe('people who buy')
    expect(customers.columns).toEqual([
      {
        name: 'id',
        type: 'integer',
        encoding: 'integer',
        nullable: false,
        ...plain,
        identity: 'always',
        extra: pgType(23, 'int4'),
      },
      {
        name: 'email',
        type: 'text',
        encoding: 'text',
        nullable: false,
        ...plain,
        comment: 'login and contact',
        extra: pgType(25, 'text'),
      },
      {
        name: 'name',
        type: 'text',
        encoding: 'text',
        nullable: true,
        ...plain,
        collation: '"C"',
        extra: pgType(25, 'text'),
      },
      {
        name: 'active',
        type: 'boolean',
        encoding: 'boolean',
        nullable: false,
        ...plain,
        default: 'true',
        extra: pgType(16, 'bool'),
      },
      {
        name: 'code',
        type: 'public.short_code',
        encoding: 'text',
        nullable: true,
        ...plain,
        extra: {
          typeOid: userTypeOid,
          typeName: 'short_code',
          typeSchema: 'public',
          baseType: 'varchar',
        },
      },
      {
        name: 'feelings',
        type: 'public.moods',
        encoding: 'text',
        nullable: true,
        ...plain,
        extra: { typeOid: userTypeOid, typeName: 'moods', typeSchema: 'public', baseType: '_mood' },
      },
      {
        name: 'home',
        type: 'public.address',
        encoding: 'text',
        nullable: true,
        ...plain,
        extra: {
          typeOid: userTypeOid,
          typeName: 'address',
          typeSchema: 'public',
          baseType: 'address',
        },
      },
      {
        name: 'tags',
        type: 'text[]',
        encoding: 'text',
        nullable: true,
        ...plain,
        default: "'{}'::text[]",
        extra: pgType(1009, '_text'),
      },
      {
        name: 'created_at',
        type: 'timestamp with time zone',
        encoding: 'text',
        nullable: false,
        ...plain,
        default: 'now()',
        extra: pgType(1184, 'timestamptz'),
      },
    ])
    const orders = table(schema, 'sales.orders')
    expect(orders.columns.map((c) => [c.name, c.identity, c.default])).toEqual([
      ['id', 'by-default', null],
      ['customer_id', null, null],
      ['ticket', null, "nextval('public.ticket_seq'::regclass)"],
      ['status', null, "'ok'::public.mood"],
      ['updated_at', null, null],
    ])
  })

  it('reads unique keys and indexes: expression, partial, INCLUDE, NULLS NOT DISTINCT, constraint-backed', () => {
    const customers = table(schema, 'public.customers')
    const nnd = version >= 150000
    expect(customers.uniqueKeys).toEqual([
      ...(nnd
        ? [
            {
              name: 'customers_code_key',
              columns: ['code'],
              extra: {
                definition: 'UNIQUE NULLS NOT DISTINCT (code)',
                deferrable: false,
                initiallyDeferred: false,
                nullsNotDistinct: true,
                inherited: false,
              },
            },
          ]
        : []),
      {
        name: 'customers_email_key',
        columns: ['email'],
        extra: {
          definition: 'UNIQUE (email)',
          deferrable: false,
          initiallyDeferred: false,
          nullsNotDistinct: false,
          inherited: false,
        },
      },
    ])
    const index = (name: string, fields: object): object => ({
      name,
      unique: false,
      method: 'btree',
      predicate: null,
      constraint: false,
      extra: noIndexExtra,
      ...fields,
    })
    expect(customers.indexes).toEqual([
      index('customers_active_created_idx', {
        columns: ['created_at'],
        predicate: 'active',
        definition:
          'CREATE INDEX customers_active_created_idx ON public.customers USING btree (created_at DESC) WHERE active',
      }),
      index('customers_code_idx', {
        unique: true,
        columns: ['code'],
        definition:
          'CREATE UNIQUE INDEX customers_code_idx ON public.customers USING btree (code) INCLUDE (name)',
        extra: { ...noIndexExtra, include: ['name'] },
      }),
      ...(nnd
        ? [
            index('customers_code_key', {
              unique: true,
              columns: ['code'],
              constraint: true,
              definition:
                'CREATE UNIQUE INDEX customers_code_key ON public.customers USING btree (code) NULLS NOT DISTINCT',
              extra: { ...noIndexExtra, nullsNotDistinct: true },
            }),
          ]
        : []),
      index('customers_email_key', {
        unique: true,
        columns: ['email'],
        constraint: true,
        definition:
          'CREATE UNIQUE INDEX customers_email_key ON public.customers USING btree (email)',
      }),
      index('customers_lower_email_idx', {
        columns: ['lower(email)'],
        definition:
          'CREATE INDEX customers_lower_email_idx ON public.customers USING btree (lower(email))',
      }),
      index('customers_pkey', {
        unique: true,
        columns: ['id'],
        constraint: true,
        definition: 'CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)',
      }),
    ])
  })

  it('reads a partitioned table, its partitions and what they inherit from it', () => {
    const parent = table(schema, 'public.measurements')
    expect(parent).toMatchObject({
      kind: 'partitioned',
      partitionBy: 'RANGE (logdate)',
      partitionOf: null,
      primaryKey: { name: 'measurements_pkey', columns: ['city_id', 'logdate'] },
      estimatedBytes: null,
    })
    expect(parent.triggers).toEqual([
      {
        name: 'measurements_noop',
        definition:
          'CREATE TRIGGER measurements_noop AFTER INSERT ON public.measurements FOR EACH ROW EXECUTE FUNCTION public.noop_trigger()',
        enabled: true,
        extra: { firing: 'origin', inherited: false },
      },
    ])
    const partition = table(schema, 'public.measurements_2024')
    expect(partition).toMatchObject({
      kind: 'table',
      partitionBy: null,
      partitionOf: {
        schema: 'public',
        name: 'measurements',
        bound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
      },
      primaryKey: {
        name: 'measurements_2024_pkey',
        columns: ['city_id', 'logdate'],
        extra: { inherited: true },
      },
      estimatedRows: 1,
      estimatedBytes: 8192,
    })
    expect(partition.indexes.map((i) => [i.name, i.extra?.['parent']])).toEqual([
      ['measurements_2024_pkey', { schema: 'public', name: 'measurements_pkey' }],
      ['measurements_2024_reading_idx', { schema: 'public', name: 'measurements_reading_idx' }],
    ])
    expect(partition.foreignKeys.map((fk) => [fk.name, fk.extra])).toEqual([
      ['measurements_customer_id_fkey', { inherited: true }],
    ])
    expect(partition.triggers.map((t) => [t.name, t.extra])).toEqual([
      ['measurements_noop', { firing: 'origin', inherited: true }],
    ])
    expect(table(schema, 'public.measurements_2025').partitionOf?.bound).toBe(
      "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    )
    // Only the declared foreign key, not PostgreSQL's hidden copies per referenced partition.
    expect(table(schema, 'public.measurement_notes').foreignKeys).toEqual([
      {
        name: 'measurement_notes_fk',
        columns: ['city_id', 'logdate'],
        references: { schema: 'public', name: 'measurements', columns: ['city_id', 'logdate'] },
        onUpdate: 'no action',
        onDelete: 'set null',
        deferrable: false,
        initiallyDeferred: false,
        definition:
          'FOREIGN KEY (city_id, logdate) REFERENCES public.measurements(city_id, logdate) ON DELETE SET NULL',
        extra: { inherited: false },
      },
    ])
  })

  it('reads tables without a primary key, empty, unlogged, inheriting and excluding ones', () => {
    expect(table(schema, 'public.event_log')).toMatchObject({
      primaryKey: null,
      uniqueKeys: [],
      indexes: [],
      estimatedRows: 2,
    })
    expect(table(schema, 'Ünïcode Space.Empty Table')).toMatchObject({
      primaryKey: { name: 'Empty Table_pkey', columns: ['ID'] },
      // Never analyzed: PostgreSQL 14+ says "unknown", 13 says 0.
      estimatedRows: version >= 140000 ? null : 0,
      estimatedBytes: 0,
    })
    expect(table(schema, 'public.cache').extra).toEqual({
      ...plainTableExtra,
      unlogged: true,
      options: ['fillfactor=70'],
    })
    expect(table(schema, 'public.event_log_archive').extra).toEqual({
      ...plainTableExtra,
      inherits: [{ schema: 'public', name: 'event_log' }],
    })
    expect(table(schema, 'public.bookings').extra).toEqual({
      ...plainTableExtra,
      exclusionConstraints: [
        {
          name: 'bookings_no_overlap',
          definition: 'EXCLUDE USING gist (during WITH &&)',
          inherited: false,
        },
      ],
    })
  })

  it('reads triggers with their enabled state', () => {
    expect(table(schema, 'sales.orders').triggers).toEqual([
      {
        name: 'orders_touch',
        definition:
          'CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at()',
        enabled: true,
        extra: { firing: 'origin', inherited: false },
      },
      {
        name: 'orders_touch_disabled',
        definition:
          "CREATE TRIGGER orders_touch_disabled BEFORE INSERT ON sales.orders FOR EACH ROW WHEN ((new.status = 'sad'::public.mood)) EXECUTE FUNCTION sales.touch_updated_at()",
        enabled: false,
        extra: { firing: 'disabled', inherited: false },
      },
    ])
  })

  it('reads views and a materialized view with its index', () => {
    expect(schema.views.map((v) => `${v.schema}.${v.name}`)).toEqual([
      'sales.big_orders',
      'sales.order_totals',
    ])
    const [big, totals] = schema.views
    expect(big).toMatchObject({
      materialized: true,
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'total', type: 'numeric' },
      ],
      indexes: [
        {
          name: 'big_orders_id_idx',
          unique: true,
          columns: ['id'],
          definition: 'CREATE UNIQUE INDEX big_orders_id_idx ON sales.big_orders USING btree (id)',
        },
      ],
      triggers: [],
      comment: null,
      extra: { options: [], populated: true },
    })
    expect(big?.definition).toMatch(/FROM sales\.order_totals\s+WHERE/)
    expect(totals).toMatchObject({
      materialized: false,
      indexes: [],
      comment: 'per order',
      extra: { options: ['security_barrier=true'] },
      triggers: [{ name: 'order_totals_no_delete', enabled: true }],
    })
    expect(totals?.definition).toContain('JOIN sales."Order Items ✓" i ON')
  })

  it('reads overloaded functions, a procedure and aggregates, sorted by arguments', () => {
    expect(schema.routines.map((r) => [r.schema, r.name, r.kind, r.arguments, r.returns])).toEqual([
      ['public', 'add', 'function', 'a integer, b integer', 'integer'],
      ['public', 'add', 'function', 'a text, b text', 'text'],
      ['public', 'biggest', 'aggregate', 'integer', 'integer'],
      ['public', 'noop_trigger', 'function', '', 'trigger'],
      ['public', 'running_sum', 'aggregate', 'integer', 'integer'],
      ['public', 'text_concat', 'aggregate', 'text', 'text'],
      ['sales', 'archive_orders', 'procedure', 'IN older_than interval', null],
      ['sales', 'touch_updated_at', 'function', '', 'trigger'],
    ])
    const routine = (name: string, args: string): RoutineSchema | undefined =>
      schema.routines.find((r) => r.name === name && r.arguments === args)
    expect(routine('add', 'a integer, b integer')).toEqual({
      schema: 'public',
      name: 'add',
      kind: 'function',
      arguments: 'a integer, b integer',
      returns: 'integer',
      language: 'sql',
      definition:
        'CREATE OR REPLACE FUNCTION public.add(a integer, b integer DEFAULT 1)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nAS $function$SELECT a + b$function$\n',
    })
    // Aggregates as pg_dump writes them: the options given, in pg_dump's order.
    expect(routine('text_concat', 'text')?.definition).toBe(
      "CREATE AGGREGATE public.text_concat(text) (\n    SFUNC = textcat,\n    STYPE = text,\n    INITCOND = ''\n);\n",
    )
    expect(routine('running_sum', 'integer')?.definition).toBe(
      [
        'CREATE AGGREGATE public.running_sum(integer) (',
        '    SFUNC = int4pl,',
        '    STYPE = integer,',
        "    INITCOND = '0',",
        '    COMBINEFUNC = int4pl,',
        '    MSFUNC = int4pl,',
        '    MINVFUNC = int4mi,',
        '    MSTYPE = integer,',
        "    MINITCOND = '0',",
        '    PARALLEL = safe',
        ');',
        '',
      ].join('\n'),
    )
    expect(routine('biggest', 'integer')?.definition).toBe(
      'CREATE AGGREGATE public.biggest(integer) (\n    SFUNC = int4larger,\n    STYPE = integer,\n    SORTOP = OPERATOR(pg_catalog.>)\n);\n',
    )
    const archive = routine('archive_orders', 'IN older_than interval')
    expect(archive).toMatchObject({ kind: 'procedure', language: 'plpgsql', returns: null })
    expect(archive?.definition).toMatch(
      /^CREATE OR REPLACE PROCEDURE sales\.archive_orders\(IN older_than interval\)/,
    )
  })

  it('reads sequences with their current value and owning column', () => {
    const seq = (name: string, fields: object): object => ({
      schema: 'public',
      name,
      type: 'integer',
      start: '1',
      increment: '1',
      min: '1',
      max: '2147483647',
      cycle: false,
      lastValue: null,
      ownedBy: null,
      extra: { identity: false },
      ...fields,
    })
    expect(schema.sequences).toEqual([
      seq('customers_id_seq', {
        lastValue: '2',
        ownedBy: { schema: 'public', name: 'customers', column: 'id' },
        extra: { identity: true },
      }),
      seq('event_log_seq_seq', {
        lastValue: '2',
        ownedBy: { schema: 'public', name: 'event_log', column: 'seq' },
      }),
      seq('ticket_seq', { start: '100', increment: '5', lastValue: '120' }),
      seq('unused_seq', { type: 'bigint', start: '-10', min: '-10', max: '10', cycle: true }),
      seq('orders_id_seq', {
        schema: 'sales',
        type: 'bigint',
        start: '1000',
        max: '9223372036854775807',
        lastValue: '1002',
        ownedBy: { schema: 'sales', name: 'orders', column: 'id' },
        extra: { identity: true },
      }),
    ])
  })

  it('reads enums in sort order, domains with their checks, and composite types', () => {
    expect(schema.enums).toEqual([
      { schema: 'public', name: 'mood', values: ['sad', 'meh', 'ok', 'happy'] },
    ])
    expect(schema.domains).toEqual([
      {
        schema: 'public',
        name: 'moods',
        baseType: 'public.mood[]',
        nullable: true,
        default: null,
        checks: [
          { name: 'moods_no_sad', definition: "CHECK ((NOT ('sad'::public.mood = ANY (VALUE))))" },
          { name: 'moods_not_empty', definition: 'CHECK ((cardinality(VALUE) > 0))' },
        ],
        collation: null,
      },
      {
        schema: 'public',
        name: 'short_code',
        baseType: 'character varying(8)',
        nullable: false,
        default: "'none'::character varying",
        checks: [
          { name: 'short_code_check', definition: "CHECK (((VALUE)::text ~ '^[a-z]+$'::text))" },
        ],
        collation: '"C"',
      },
    ])
    expect(schema.compositeTypes).toEqual([
      {
        schema: 'public',
        name: 'address',
        attributes: [
          { name: 'street', type: 'text' },
          { name: 'city', type: 'text' },
          { name: 'Zip Code', type: 'character varying(10)' },
        ],
      },
    ])
  })

  it('matches the checked-in expectation for the whole fixture', async () => {
    // Deparsed text differs a little between major versions, hence one file per major version
    // (a missing one is written on the first run; `vitest -u` rewrites it after a change).
    // Formatted as the repository's Prettier would, so `prettier --write .` leaves it alone.
    const file = `fixtures/postgres/objects.pg${Math.floor(version / 10000)}.expected.json`
    const path = new URL(file, import.meta.url)
    const json = await format(JSON.stringify(withStableOids(schema)), {
      ...(await resolveConfig(path)),
      parser: 'json',
    })
    await expect(json).toMatchFileSnapshot(file)
  })

  it('is deterministic: same result twice, and from a session with other settings', async () => {
    expect(await introspect(client)).toEqual(schema)
    const other = await connect(database)
    try {
      // Settings that change how the server prints names and constants.
      await other.query(`SET search_path = sales, public`)
      await other.query(`SET DateStyle = 'SQL, DMY'`)
      await other.query(`SET TimeZone = 'America/New_York'`)
      await other.query(`SET extra_float_digits = 0`)
      expect(await introspect(other)).toEqual(schema)
      // …and gets them back afterwards.
      const { rows } = await other.query<{ search_path: string; datestyle: string }>(
        `SELECT current_setting('search_path') AS search_path, current_setting('DateStyle') AS datestyle`,
      )
      expect(rows[0]).toEqual({ search_path: 'sales, public', datestyle: 'SQL, DMY' })
    } finally {
      await other.end()
    }
  })

  it('spreads the catalog reads over helper connections in the same snapshot, and restores their settings', async () => {
    const helpers = [await connect(database), await connect(database)]
    const queried = [0, 0]
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')
      for (const helper of helpers) {
        await helper.query(`SET search_path = sales`)
        await helper.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        await helper.query(`SET TRANSACTION SNAPSHOT '${rows[0]!.id}'`)
      }
      const counted = helpers.map((helper, i): PgQueryable => ({
        query: <R>(sql: string, values?: unknown[]) => {
          queried[i]!++
          return helper.query<R & pg.QueryResultRow>(sql, values)
        },
      }))
      const spread = await introspectPostgres(client, { helpers: counted })
      expect(spread).toEqual(schema)
      // Each helper read its settings, pinned, restored them, and took catalog reads as it was
      // free: every connection some, none all of them.
      for (const count of queried) expect(count).toBeGreaterThan(3)
      expect(queried[0]! + queried[1]!).toBeLessThan(2 * 3 + 24)
      for (const helper of helpers) {
        const settings = await helper.query<{ search_path: string }>(
          `SELECT current_setting('search_path') AS search_path`,
        )
        expect(settings.rows[0]?.search_path).toBe('sales')
      }
    } finally {
      await client.query('ROLLBACK')
      await Promise.all(helpers.map((helper) => helper.end()))
    }
  })

  it('waits for every connection to finish when a helper fails, and restores the settings', async () => {
    const helper = await connect(database)
    let active = 0
    let most = 0
    let helperQueries = 0
    let issued = 0
    let failed = false
    /** The queries started once the helper had failed. */
    const afterFailure: string[] = []
    const tracked = (on: pg.Client, failAt?: number): PgQueryable => ({
      query: async <R>(sql: string, values?: unknown[]) => {
        issued++
        if (failed) afterFailure.push(sql)
        if (failAt !== undefined && ++helperQueries === failAt) {
          failed = true
          throw new Error('helper broke')
        }
        most = Math.max(most, ++active)
        try {
          return await on.query<R & pg.QueryResultRow>(sql, values)
        } finally {
          active--
        }
      },
    })
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      // The helper fails on its fourth query, among the catalog reads (after its server version
      // and settings): the main connection's queries still queued must finish first.
      await expect(
        introspectPostgres(tracked(client), { helpers: [tracked(helper, 4)] }),
      ).rejects.toThrow()
      expect(active).toBe(0)
      expect(most).toBeLessThanOrEqual(2)
      // The catalog reads not started when it failed were not run: after the failure, only each
      // connection's settings were given back. (Counting all the queries, as this did, depended
      // on how far the main connection got meanwhile, which a slow machine changes.)
      expect(afterFailure).toEqual([SQL_SET, SQL_SET])
      // Nor was each read issued up front, all 24 queued in the driver before any had failed.
      expect(issued).toBeLessThan(2 * 3 + 24)
      const { rows } = await client.query<{ search_path: string }>(
        `SELECT current_setting('search_path') AS search_path`,
      )
      expect(rows[0]?.search_path).toBe('"$user", public')
    } finally {
      await client.query('ROLLBACK')
      await helper.end()
    }
  })

  it('reads only the schemas asked for', async () => {
    const sales = await introspect(client, { schemas: ['sales', 'pg_catalog', 'missing'] })
    expect(sales.schemas).toEqual(['sales'])
    expect(sales.tables.map((t) => t.name)).toEqual(['Order Items ✓', 'orders'])
    expect(sales.views.map((v) => v.name)).toEqual(['big_orders', 'order_totals'])
    expect(sales.routines.map((r) => r.name)).toEqual(['archive_orders', 'touch_updated_at'])
    expect(sales.sequences.map((s) => s.name)).toEqual(['orders_id_seq'])
    expect([sales.enums, sales.domains, sales.compositeTypes]).toEqual([[], [], []])
    // References out of the selection keep their names; extensions are database-wide.
    expect(table(sales, 'sales.orders').foreignKeys[0]?.references).toEqual({
      schema: 'public',
      name: 'customers',
      columns: ['id'],
    })
    expect(sales.extensions).toEqual(schema.extensions)
  })

  it('stops between queries when aborted, and restores the session settings', async () => {
    const before = new AbortController()
    before.abort()
    await expect(introspect(client, { signal: before.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    })
    const midway = new AbortController()
    let queries = 0
    const aborting: PgQueryable = {
      query: <R>(sql: string, values?: unknown[]): Promise<{ rows: R[] }> => {
        // Aborts while the fourth query (the tables) runs: the fifth must not start.
        if (++queries === 4) midway.abort()
        return client.query<R & pg.QueryResultRow>(sql, values)
      },
    }
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      await expect(introspectPostgres(aborting, { signal: midway.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      })
      const { rows } = await client.query<{ search_path: string }>(
        `SELECT current_setting('search_path') AS search_path`,
      )
      expect(rows[0]?.search_path).toBe('"$user", public')
    } finally {
      await client.query('ROLLBACK')
    }
  })

  it('maps SQL failures to QUERY_FAILED and a lost connection to CONNECTION_LOST', async () => {
    await client.query('BEGIN')
    try {
      await expect(client.query('SELECT 1/0')).rejects.toThrow(/division by zero/)
      // The transaction is aborted now: every catalog read fails with SQLSTATE 25P02.
      await expect(introspectPostgres(client)).rejects.toMatchObject({
        code: 'QUERY_FAILED',
        retryable: false,
        details: { sqlstate: '25P02', objects: 'the server version' },
      })
    } finally {
      await client.query('ROLLBACK')
    }

    const target = parseConnectionUrl(withDatabase(services.pgUrl, database))
    for (const options of [{ target }, {}]) {
      const doomed = await connect(database)
      // node-postgres emits 'error' twice for a terminated idle connection: the server's FATAL
      // message, then the socket's end. Both are expected; the first says it happened.
      const failed = new Promise((resolve) => doomed.once('error', resolve))
      doomed.on('error', () => undefined)
      try {
        const { rows } = await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
        await failed
        await expect(introspectPostgres(doomed, options)).rejects.toMatchObject({
          code: 'CONNECTION_LOST',
          retryable: true,
        })
      } finally {
        await doomed.end().catch(() => undefined)
      }
    }
  })
})

describe('introspectPostgres and extensions (DBSNAP_TEST_PG_URL)', () => {
  let admin: pg.Client
  let database: string | undefined

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: services.pgUrl })
    await admin.connect()
  })

  afterAll(async () => {
    if (database !== undefined) await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin?.end()
  })

  it('leaves out every object that belongs to an extension', async (ctx) => {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT name FROM pg_available_extensions WHERE name IN ('citext', 'hstore') ORDER BY name`,
    )
    const extension = rows[0]?.name
    if (extension === undefined) {
      ctx.skip(true, 'neither citext nor hstore (PostgreSQL contrib) is installed on the server')
      return
    }
    database = await freshDatabase(admin, 'ext')
    const client = await connect(database)
    try {
      // The extension brings types, functions, operators and (citext) aggregates; objects
      // added to it by hand stand for the tables, views, sequences, types and schemas some
      // extensions create.
      await client.query(`
        CREATE EXTENSION ${extension};
        CREATE TABLE public.users (id int PRIMARY KEY, login public.${extension} NOT NULL);
        CREATE SCHEMA ext_schema;
        CREATE TABLE public.ext_table (x int PRIMARY KEY);
        CREATE VIEW public.ext_view AS SELECT 1 AS one;
        CREATE SEQUENCE public.ext_seq;
        CREATE TYPE public.ext_enum AS ENUM ('a');
        CREATE DOMAIN public.ext_domain AS int;
        CREATE TYPE public.ext_composite AS (a int);
        CREATE FUNCTION public.ext_function() RETURNS int LANGUAGE sql AS 'SELECT 1';
        ALTER EXTENSION ${extension} ADD SCHEMA ext_schema;
        ALTER EXTENSION ${extension} ADD TABLE public.ext_table;
        ALTER EXTENSION ${extension} ADD VIEW public.ext_view;
        ALTER EXTENSION ${extension} ADD SEQUENCE public.ext_seq;
        ALTER EXTENSION ${extension} ADD TYPE public.ext_enum;
        ALTER EXTENSION ${extension} ADD DOMAIN public.ext_domain;
        ALTER EXTENSION ${extension} ADD TYPE public.ext_composite;
        ALTER EXTENSION ${extension} ADD FUNCTION public.ext_function();
      `)
      const { rows: members } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_depend WHERE deptype = 'e'
          AND refobjid = (SELECT oid FROM pg_extension WHERE extname = $1)`,
        [extension],
      )
      expect(members[0]!.n).toBeGreaterThan(20)

      const result = await introspect(client)
      expect(result.schemas).toEqual(['public'])
      expect(result.tables.map((t) => t.name)).toEqual(['users'])
      expect(result.views).toEqual([])
      expect(result.routines).toEqual([])
      expect(result.sequences).toEqual([])
      expect(result.enums).toEqual([])
      expect(result.domains).toEqual([])
      expect(result.compositeTypes).toEqual([])
      expect(result.extensions.map((e) => [e.name, e.schema])).toEqual(
        [
          [extension, 'public'],
          ['plpgsql', 'pg_catalog'],
        ].sort(),
      )
      // A column of the extension's type is the user's, and is read as text.
      expect(table(result, 'public.users').columns[1]).toMatchObject({
        name: 'login',
        type: `public.${extension}`,
        encoding: 'text',
        extra: { typeName: extension, typeSchema: 'public', baseType: extension },
      })
    } finally {
      await client.end()
    }
  })
})

/**
 * The comments query as first written: every comment in the database identified, then filtered.
 * Slow, but plainly right; the adapter's narrows pg_description first and must agree with it.
 */
const PLAIN_COMMENTS_SQL = `SELECT a.type AS kind, a.object_names AS names, a.object_args AS args,
    d.description AS comment
  FROM pg_description d
  CROSS JOIN LATERAL pg_identify_object_as_address(d.classoid, d.objoid, d.objsubid) a
  CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) i
  JOIN pg_namespace n ON CASE WHEN i.schema IS NULL THEN n.nspname = a.object_names[1]
    ELSE quote_ident(n.nspname) = i.schema END
  WHERE a.type = ANY ($2::text[]) AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
    AND NOT EXISTS (SELECT 1 FROM pg_depend x
      WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')`

describe('introspectPostgres comments (DBSNAP_TEST_PG_URL)', () => {
  /** Every kind `DatabaseSchema.comments` holds, one object each, commented with its kind. */
  const KINDS = [
    'schema',
    'type',
    'domain constraint',
    'function',
    'procedure',
    'aggregate',
    'index',
    'sequence',
    'collation',
    'table constraint',
    'trigger',
    'rule',
    'policy',
    'view column',
    'materialized view column',
    'composite type column',
  ]
  let admin: pg.Client
  let database: string | undefined
  let client: pg.Client

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: services.pgUrl })
    await admin.connect()
    database = await freshDatabase(admin, 'comments')
    client = await connect(database)
    const objects = (schema: string): string => `
      CREATE SCHEMA ${schema}; COMMENT ON SCHEMA ${schema} IS 'schema';
      CREATE TYPE ${schema}.mood AS ENUM ('calm'); COMMENT ON TYPE ${schema}.mood IS 'type';
      CREATE DOMAIN ${schema}.pos AS int CONSTRAINT pos_check CHECK (VALUE > 0);
      COMMENT ON CONSTRAINT pos_check ON DOMAIN ${schema}.pos IS 'domain constraint';
      CREATE FUNCTION ${schema}.f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
      COMMENT ON FUNCTION ${schema}.f(int) IS 'function';
      CREATE PROCEDURE ${schema}.p() LANGUAGE sql AS 'SELECT 1';
      COMMENT ON PROCEDURE ${schema}.p() IS 'procedure';
      CREATE AGGREGATE ${schema}.total(int) (SFUNC = int4pl, STYPE = int);
      COMMENT ON AGGREGATE ${schema}.total(int) IS 'aggregate';
      CREATE TABLE ${schema}.t (id int PRIMARY KEY, v int CONSTRAINT v_check CHECK (v > 0));
      COMMENT ON TABLE ${schema}.t IS 'table: on the table itself';
      COMMENT ON COLUMN ${schema}.t.v IS 'column: on the table itself';
      CREATE INDEX t_v ON ${schema}.t (v); COMMENT ON INDEX ${schema}.t_v IS 'index';
      CREATE SEQUENCE ${schema}.seq; COMMENT ON SEQUENCE ${schema}.seq IS 'sequence';
      CREATE COLLATION ${schema}.coll FROM "C"; COMMENT ON COLLATION ${schema}.coll IS 'collation';
      COMMENT ON CONSTRAINT v_check ON ${schema}.t IS 'table constraint';
      CREATE FUNCTION ${schema}.trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
      CREATE TRIGGER tr BEFORE INSERT ON ${schema}.t FOR EACH ROW EXECUTE FUNCTION ${schema}.trg();
      COMMENT ON TRIGGER tr ON ${schema}.t IS 'trigger';
      CREATE RULE r AS ON UPDATE TO ${schema}.t DO ALSO NOTHING;
      COMMENT ON RULE r ON ${schema}.t IS 'rule';
      CREATE POLICY pol ON ${schema}.t USING (true); COMMENT ON POLICY pol ON ${schema}.t IS 'policy';
      CREATE VIEW ${schema}.v AS SELECT id FROM ${schema}.t;
      COMMENT ON COLUMN ${schema}.v.id IS 'view column';
      CREATE MATERIALIZED VIEW ${schema}.mv AS SELECT id FROM ${schema}.t;
      COMMENT ON COLUMN ${schema}.mv.id IS 'materialized view column';
      CREATE TYPE ${schema}.comp AS (x int);
      COMMENT ON COLUMN ${schema}.comp.x IS 'composite type column';`
    // A schema whose name needs quotes: pg_identify_object names it quoted, the address not.
    await client.query(objects('first') + objects('"Second"'))
  })

  afterAll(async () => {
    await client?.end()
    if (database !== undefined) await admin?.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin?.end()
  })

  it.each([[null], [['Second', 'pg_catalog', 'missing']]])(
    'reads a comment of every kind, as identifying every comment would (schemas %j)',
    async (schemas) => {
      const result = await introspect(client, schemas === null ? {} : { schemas })
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      let plain: CommentSchema[]
      try {
        plain = (await client.query<CommentSchema>(PLAIN_COMMENTS_SQL, [schemas, KINDS])).rows
      } finally {
        await client.query('ROLLBACK')
      }
      const byText = (list: CommentSchema[] = []): string[] =>
        list.map((c) => JSON.stringify(c)).sort()
      expect(byText(result.comments)).toEqual(byText(plain))
      const named = (result.comments ?? []).filter((c) => c.names[0] !== 'public')
      expect(named.map((c) => c.comment).sort()).toEqual(
        (schemas === null ? [...KINDS, ...KINDS] : KINDS).sort(),
      )
      expect(named.every((c) => c.kind === c.comment)).toBe(true)
    },
  )
})

describe('introspectPostgres speed (DBSNAP_TEST_PG_URL)', () => {
  const TABLES = 2000
  let admin: pg.Client
  let database: string | undefined

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: services.pgUrl })
    await admin.connect()
  })

  afterAll(async () => {
    if (database !== undefined) await admin.query(`DROP DATABASE ${database} WITH (FORCE)`)
    await admin?.end()
  })

  it(`reads ${TABLES} tables of 5 columns in well under 3 s`, async () => {
    database = await freshDatabase(admin, 'speed')
    const client = await connect(database)
    try {
      // Committing every 200 tables keeps the creating transaction within the lock table.
      await client.query(`DO $$
        BEGIN
          FOR i IN 1..${TABLES} LOOP
            EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, a text, b int,
              c timestamptz DEFAULT now(), d numeric(12, 2) CHECK (d >= 0))', i);
            IF i % 200 = 0 THEN COMMIT; END IF;
          END LOOP;
        END $$`)
      const started = performance.now()
      const result = await introspect(client)
      const elapsed = performance.now() - started
      expect(result.tables).toHaveLength(TABLES)
      expect(result.tables.every((t) => t.columns.length === 5 && t.primaryKey !== null)).toBe(true)
      expect(result.tables.slice(0, 3).map((t) => t.name)).toEqual(['t1', 't10', 't100'])
      expect(elapsed, `introspection took ${Math.round(elapsed)} ms`).toBeLessThan(3000)
    } finally {
      await client.end()
    }
  })
})
