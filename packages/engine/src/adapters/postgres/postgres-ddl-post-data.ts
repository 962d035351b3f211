// PostgreSQL DDL of a restore's post-data section: what goes on a table once its rows are in
// (keys, indexes, triggers, rules, policies), foreign keys, views, sequence values, comments.

import type { RestoreObjects } from '../target-adapter.js'
import type {
  CommentSchema,
  QualifiedName,
  RuleSchema,
  SequenceSchema,
  TableSchema,
  ViewSchema,
} from '../../schema/schema.js'
import type {
  PgIndexExtra,
  PgKeyExtra,
  PgPolicy,
  PgRuleExtra,
  PgTriggerExtra,
  PgViewExtra,
} from './postgres-schema-extra.js'
import {
  display,
  inherited,
  neededObjects,
  qualifiedName,
  quoteIdent,
  quoteLiteral,
  same,
  tableExtra,
  type DdlStatement,
} from './postgres-ddl.js'

/**
 * After a table's rows: its primary key, unique, check and exclusion constraints, its other
 * indexes, its replica identity (which may name one of them), the attachment to its
 * partitioned parent (which then clones the parent's triggers and adopts the matching indexes
 * and keys), and its own triggers with their enabled state.
 * Foreign keys wait for every table (`finishStatements`).
 */
export function afterDataStatements(table: TableSchema): DdlStatement[] {
  const name = qualifiedName(table)
  const isPartition = table.partitionOf !== null
  const out: DdlStatement[] = []
  const constraint = (
    action: string,
    constraintName: string,
    definition: string,
  ): DdlStatement => ({
    sql: `ALTER TABLE ${name} ADD CONSTRAINT ${quoteIdent(constraintName)} ${definition}`,
    action,
    object: `${display(table)}.${constraintName}`,
  })
  // A partition's keys are created here too (attaching adopts them) so that its index names
  // stay those of the snapshot; an inherited check is the parent's to give.
  const keys = [...(table.primaryKey !== null ? [table.primaryKey] : []), ...table.uniqueKeys]
  for (const key of keys) {
    const extra = key.extra as PgKeyExtra | undefined
    if (extra === undefined) continue
    if (extra.inherited && !isPartition) continue
    out.push(
      constraint(
        key === table.primaryKey ? 'add primary key' : 'add unique key',
        key.name,
        extra.definition,
      ),
    )
  }
  for (const check of table.checks) {
    if (inherited(check.extra)) continue
    out.push(constraint('add check', check.name, check.definition))
  }
  for (const exclusion of tableExtra(table).exclusionConstraints) {
    if (exclusion.inherited && !isPartition) continue
    out.push(constraint('add exclusion constraint', exclusion.name, exclusion.definition))
  }
  for (const index of table.indexes) {
    if (index.constraint) continue
    const extra = index.extra as PgIndexExtra | undefined
    // An index left invalid by a failed CREATE INDEX CONCURRENTLY is not recreated.
    if (extra?.valid === false && table.kind !== 'partitioned') continue
    out.push({
      // ON ONLY makes a parent's index wait for its partitions' to be attached; with no
      // partitions yet, the plain form is the same index, valid at once.
      sql: index.definition.replace(/ ON ONLY /, ' ON '),
      action: 'create index',
      object: `${display(table)}.${index.name}`,
    })
  }
  const clustered = [table.primaryKey, ...table.uniqueKeys, ...table.indexes].find(
    (index) => (index?.extra as PgIndexExtra | undefined)?.clustered === true,
  )
  if (clustered !== undefined && clustered !== null) {
    out.push({
      sql: `ALTER TABLE ${name} CLUSTER ON ${quoteIdent(clustered.name)}`,
      action: 'set cluster index',
      object: `${display(table)}.${clustered.name}`,
    })
  }
  for (const statistics of tableExtra(table).statistics ?? []) {
    out.push({
      sql: statistics.definition,
      action: 'create statistics',
      object: display(statistics),
    })
    if (statistics.target !== undefined) {
      out.push({
        sql: `ALTER STATISTICS ${qualifiedName(statistics)} SET STATISTICS ${statistics.target}`,
        action: 'set statistics target',
        object: display(statistics),
      })
    }
  }
  const identity = tableExtra(table).replicaIdentity
  if (identity !== undefined) {
    out.push({
      sql: `ALTER TABLE ${name} REPLICA IDENTITY ${
        typeof identity === 'string'
          ? identity.toUpperCase()
          : `USING INDEX ${quoteIdent(identity.index)}`
      }`,
      action: 'set replica identity',
      object: display(table),
    })
  }
  if (table.partitionOf !== null) {
    out.push({
      sql: `ALTER TABLE ${qualifiedName(table.partitionOf)} ATTACH PARTITION ${name} ${table.partitionOf.bound}`,
      action: 'attach partition',
      object: display(table),
    })
  }
  for (const trigger of table.triggers) {
    const extra = trigger.extra as PgTriggerExtra | undefined
    if (extra?.inherited === true) continue
    out.push(...triggerStatements(table, trigger.name, trigger.definition, extra))
  }
  return out
}

/** Enabled-state keywords of `ALTER TABLE … TRIGGER` / `… RULE` for a non-default state. */
const FIRING_STATE = { disabled: 'DISABLE', replica: 'ENABLE REPLICA', always: 'ENABLE ALWAYS' }

/**
 * A table's or view's rewrite rules with their enabled state. They come after every table and
 * view, as pg_dump puts them, because a rule's actions may read or write any of them.
 */
function ruleStatements(owner: QualifiedName & { rules?: RuleSchema[] }): DdlStatement[] {
  return (owner.rules ?? []).flatMap((rule) => {
    const object = `${display(owner)}.${rule.name}`
    const out: DdlStatement[] = [
      { sql: rule.definition.trim().replace(/;$/, ''), action: 'create rule', object },
    ]
    const firing = (rule.extra as PgRuleExtra | undefined)?.firing ?? 'origin'
    if (firing !== 'origin') {
      out.push({
        sql: `ALTER TABLE ${qualifiedName(owner)} ${FIRING_STATE[firing]} RULE ${quoteIdent(rule.name)}`,
        action: 'set rule state',
        object,
      })
    }
    return out
  })
}

/**
 * A table's row-level security policies. They come after every table, as pg_dump puts them,
 * because their expressions may read other tables.
 */
function policyStatements(table: TableSchema): DdlStatement[] {
  const policies: PgPolicy[] = tableExtra(table).policies ?? []
  return policies.map((policy) => {
    const roles = policy.roles.map((role) => (role === 'public' ? 'PUBLIC' : quoteIdent(role)))
    const parts = [
      `CREATE POLICY ${quoteIdent(policy.name)} ON ${qualifiedName(table)}`,
      `AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`,
      `FOR ${policy.command.toUpperCase()}`,
      `TO ${roles.join(', ')}`,
    ]
    if (policy.using !== null) parts.push(`USING (${policy.using})`)
    if (policy.check !== null) parts.push(`WITH CHECK (${policy.check})`)
    return {
      sql: parts.join(' '),
      action: 'create policy',
      object: `${display(table)}.${policy.name}`,
    }
  })
}

/** `COMMENT ON` targets by kind: how each kind's address becomes the object's name in DDL. */
const COMMENT_TARGETS: Record<string, (names: string[], args: string[]) => string> = {
  schema: ([schema]) => `SCHEMA ${quoteIdent(schema!)}`,
  // A type's name is one part, printed as DDL spells it (`public.mood`, `"Odd"."T"[]`).
  type: ([type]) => `TYPE ${type!}`,
  'domain constraint': ([domain], [name]) => `CONSTRAINT ${quoteIdent(name!)} ON DOMAIN ${domain!}`,
  function: (names, args) => `FUNCTION ${qualifiedParts(names)}(${args.join(', ')})`,
  procedure: (names, args) => `PROCEDURE ${qualifiedParts(names)}(${args.join(', ')})`,
  aggregate: (names, args) => `AGGREGATE ${qualifiedParts(names)}(${args.join(', ') || '*'})`,
  index: (names) => `INDEX ${qualifiedParts(names)}`,
  sequence: (names) => `SEQUENCE ${qualifiedParts(names)}`,
  collation: (names) => `COLLATION ${qualifiedParts(names)}`,
  'table constraint': (names) => onTable('CONSTRAINT', names),
  trigger: (names) => onTable('TRIGGER', names),
  rule: (names) => onTable('RULE', names),
  policy: (names) => onTable('POLICY', names),
  'view column': (names) => `COLUMN ${qualifiedParts(names)}`,
  'materialized view column': (names) => `COLUMN ${qualifiedParts(names)}`,
  'composite type column': (names) => `COLUMN ${qualifiedParts(names)}`,
}

function qualifiedParts(names: string[]): string {
  return names.map(quoteIdent).join('.')
}

/** `CONSTRAINT "c" ON "s"."t"` from `[schema, table, name]`. */
function onTable(keyword: string, [schema, table, name]: string[]): string {
  return `${keyword} ${quoteIdent(name!)} ON ${quoteIdent(schema!)}.${quoteIdent(table!)}`
}

/**
 * Comments on objects that hold none of their own (`DatabaseSchema.comments`): all of them in
 * a whole restore, those on the restored tables' objects otherwise. Last, once every object is
 * there; kinds this version does not know are left out.
 */
function commentStatements(objects: RestoreObjects): DdlStatement[] {
  const onRestored = (comment: CommentSchema): boolean =>
    objects.tables.some((t) => t.schema === comment.names[0] && t.name === comment.names[1])
  return (objects.schema.comments ?? [])
    .filter((comment) => objects.whole || onRestored(comment))
    .flatMap((comment) => {
      const target = COMMENT_TARGETS[comment.kind]?.(comment.names, comment.args)
      if (target === undefined) return []
      return [
        {
          sql: `COMMENT ON ${target} IS ${quoteLiteral(comment.comment)}`,
          action: 'comment',
          object: `${comment.kind} ${comment.names.join('.')}`,
        },
      ]
    })
}

function triggerStatements(
  owner: QualifiedName,
  triggerName: string,
  definition: string,
  extra: PgTriggerExtra | undefined,
): DdlStatement[] {
  const object = `${display(owner)}.${triggerName}`
  const out: DdlStatement[] = [{ sql: definition, action: 'create trigger', object }]
  const firing = extra?.firing ?? 'origin'
  if (firing !== 'origin') {
    out.push({
      sql: `ALTER TABLE ${qualifiedName(owner)} ${FIRING_STATE[firing]} TRIGGER ${quoteIdent(triggerName)}`,
      action: 'set trigger state',
      object,
    })
  }
  return out
}

/** A foreign key of `table`, as `ALTER TABLE … ADD CONSTRAINT`. */
export function foreignKeyStatements(table: TableSchema): DdlStatement[] {
  return table.foreignKeys
    .filter((fk) => !inherited(fk.extra))
    .map((fk) => ({
      sql: `ALTER TABLE ${qualifiedName(table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`,
      action: 'add foreign key',
      object: `${display(table)}.${fk.name}`,
    }))
}

/** A view or materialized view (without its rows: `refreshStatement` loads those). */
export function viewStatements(view: ViewSchema): DdlStatement[] {
  const extra = view.extra as PgViewExtra | undefined
  const options = extra?.options ?? []
  const withOptions = options.length > 0 ? ` WITH (${options.join(', ')})` : ''
  const query = view.definition.trim().replace(/;$/, '')
  const name = qualifiedName(view)
  const out: DdlStatement[] = [
    view.materialized
      ? {
          sql: `CREATE MATERIALIZED VIEW ${name}${withOptions} AS ${query} WITH NO DATA`,
          action: 'create materialized view',
          object: display(view),
        }
      : {
          sql: `CREATE OR REPLACE VIEW ${name}${withOptions} AS ${query}`,
          action: 'create view',
          object: display(view),
        },
  ]
  for (const index of view.indexes) {
    out.push({
      sql: index.definition,
      action: 'create index',
      object: `${display(view)}.${index.name}`,
    })
  }
  if (view.comment !== null && view.comment !== undefined) {
    out.push({
      sql: `COMMENT ON ${view.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${name} IS ${quoteLiteral(view.comment)}`,
      action: 'comment',
      object: display(view),
    })
  }
  return out
}

export function refreshStatement(view: ViewSchema): DdlStatement | null {
  const extra = view.extra as PgViewExtra | undefined
  if (!view.materialized || extra?.populated === false) return null
  return {
    sql: `REFRESH MATERIALIZED VIEW ${qualifiedName(view)}`,
    action: 'refresh materialized view',
    object: display(view),
  }
}

export function viewTriggerStatements(view: ViewSchema): DdlStatement[] {
  return (view.triggers ?? []).flatMap((trigger) =>
    triggerStatements(view, trigger.name, trigger.definition, trigger.extra as PgTriggerExtra),
  )
}

/**
 * A sequence's position as of the snapshot; a sequence never called is reset so that its next
 * value is its start.
 */
export function setvalStatement(sequence: SequenceSchema): DdlStatement {
  const literal = quoteLiteral(qualifiedName(sequence))
  return {
    sql:
      sequence.lastValue === null
        ? `SELECT pg_catalog.setval(${literal}, ${sequence.start}, false)`
        : `SELECT pg_catalog.setval(${literal}, ${sequence.lastValue}, true)`,
    action: 'set sequence value',
    object: display(sequence),
  }
}

/** The sequences whose position a restore sets: all, or those the restored tables own. */
export function restoredSequences(objects: RestoreObjects): SequenceSchema[] {
  if (objects.whole) return objects.schema.sequences
  return objects.schema.sequences.filter(
    (s) => s.ownedBy !== null && objects.tables.some((t) => same(t, s.ownedBy!)),
  )
}

/**
 * Statements after every table's rows: foreign keys (of the restored tables and of the
 * partitioned parents), views with their indexes, materialized views' rows, views' triggers,
 * rules, policies, comments, sequence positions, and in a whole restore publications and event
 * triggers.
 */
export function finishStatements(objects: RestoreObjects): DdlStatement[] {
  const needed = neededObjects(objects)
  const out: DdlStatement[] = []
  for (const table of [...needed.parents, ...objects.tables])
    out.push(...foreignKeyStatements(table))
  for (const view of needed.views) out.push(...viewStatements(view))
  for (const view of needed.views) {
    const refresh = refreshStatement(view)
    if (refresh !== null) out.push(refresh)
  }
  for (const view of needed.views) out.push(...viewTriggerStatements(view))
  for (const owner of [...needed.parents, ...objects.tables, ...needed.views]) {
    out.push(...ruleStatements(owner))
  }
  for (const table of [...needed.parents, ...objects.tables]) out.push(...policyStatements(table))
  out.push(...commentStatements(objects))
  for (const sequence of restoredSequences(objects)) out.push(setvalStatement(sequence))
  if (objects.whole) out.push(...databaseWideStatements(objects.schema))
  return out
}

/**
 * Publications, then event triggers, of a whole restore: last, so that an event trigger does
 * not fire on the restore's own DDL.
 */
function databaseWideStatements(schema: RestoreObjects['schema']): DdlStatement[] {
  const out: DdlStatement[] = []
  for (const publication of schema.publications ?? []) {
    const name = quoteIdent(publication.name)
    const options = [`publish = ${quoteLiteral(publication.publish.join(', '))}`]
    if (publication.viaPartitionRoot) options.push('publish_via_partition_root = true')
    out.push({
      sql: `CREATE PUBLICATION ${name}${publication.allTables ? ' FOR ALL TABLES' : ''} WITH (${options.join(', ')})`,
      action: 'create publication',
      object: publication.name,
    })
    for (const table of publication.tables) {
      const columns = table.columns === null ? '' : ` (${table.columns.map(quoteIdent).join(', ')})`
      const where = table.where === null ? '' : ` WHERE (${table.where})`
      out.push({
        sql: `ALTER PUBLICATION ${name} ADD TABLE ONLY ${qualifiedName(table)}${columns}${where}`,
        action: 'add publication table',
        object: `${publication.name} ${display(table)}`,
      })
    }
    for (const schemaName of publication.schemas) {
      out.push({
        sql: `ALTER PUBLICATION ${name} ADD TABLES IN SCHEMA ${quoteIdent(schemaName)}`,
        action: 'add publication table',
        object: `${publication.name} ${schemaName}`,
      })
    }
  }
  for (const trigger of schema.eventTriggers ?? []) {
    const name = quoteIdent(trigger.name)
    const tags =
      trigger.tags.length === 0 ? '' : ` WHEN TAG IN (${trigger.tags.map(quoteLiteral).join(', ')})`
    out.push({
      sql: `CREATE EVENT TRIGGER ${name} ON ${quoteIdent(trigger.event)}${tags} EXECUTE FUNCTION ${trigger.function}()`,
      action: 'create event trigger',
      object: trigger.name,
    })
    if (trigger.firing !== 'origin') {
      out.push({
        sql: `ALTER EVENT TRIGGER ${name} ${FIRING_STATE[trigger.firing]}`,
        action: 'set event trigger state',
        object: trigger.name,
      })
    }
  }
  return out
}
