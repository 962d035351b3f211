// The MySQL/MariaDB `extra` fields of the normalized schema: what introspection records beyond
// the shape every engine shares, and what the DDL, the SQL export and the restore read back.

/** `ColumnSchema.extra` on MySQL/MariaDB. */
export type MysqlColumnExtra = {
  /** `information_schema.columns.data_type`, lower case: what decides the value encoding. */
  dataType: string
  unsigned: boolean
  zerofill: boolean
  /** Characters of a string type, bytes of a binary one; null for other types. */
  length: number | null
  /** Digits of a numeric type (bits of BIT); null for other types. */
  precision: number | null
  scale: number | null
  /** Fractional-second digits of TIME, DATETIME, TIMESTAMP; null for other types. */
  fractionalSeconds: number | null
  charset: string | null
  collation: string | null
  autoIncrement: boolean
  /** `ON UPDATE` expression (`current_timestamp(3)`), or null. */
  onUpdate: string | null
  /** How a generated column is kept; null for an ordinary column. */
  generatedKind: 'virtual' | 'stored' | null
  invisible: boolean
}

/** `TableSchema.extra` on MySQL/MariaDB: the table options. */
export type MysqlTableExtra = {
  engine: string | null
  charset: string | null
  collation: string | null
  rowFormat: string | null
  /** `create_options` as the server lists them (`partitioned`, `row_format=COMPRESSED`…). */
  createOptions: string | null
  /** The next AUTO_INCREMENT value, as a decimal string; null without one. */
  autoIncrement: string | null
  /** MariaDB `SYSTEM VERSIONED` tables. */
  systemVersioned: boolean
  /**
   * The partitioning clause as SHOW CREATE TABLE ends with it (`PARTITION BY RANGE (…) (…)`);
   * null without one (and in snapshots taken before it was recorded).
   */
  partitioning?: string | null
  /**
   * Whether the table's engine reads consistently inside the snapshot's transaction (InnoDB,
   * MyRocks). MyISAM, Aria, MEMORY… are read as they are when read.
   */
  transactional: boolean
}

/** `IndexSchema.extra` on MySQL/MariaDB. */
export type MysqlIndexExtra = {
  /** Prefix length per indexed column (`name(10)`), null for a whole column. */
  subParts: (number | null)[]
  descending: boolean[]
  comment: string | null
  /** False for MySQL INVISIBLE and MariaDB IGNORED indexes. */
  visible: boolean
  /** The index's place among the table's keys, as the server lists them; null when not known. */
  position: number | null
}

/** `RoutineSchema.extra` on MySQL/MariaDB. */
export type MysqlRoutineExtra = {
  deterministic: boolean
  dataAccess: string
  security: string
  definer: string
  sqlMode: string
  comment: string
  /**
   * `character_set_client` and `collation_connection` of the session that created it, which
   * give its string literals their character set and collation (triggers and events too).
   */
  charsetClient?: string
  collationConnection?: string
}

/** `SequenceSchema.extra` on MariaDB. */
export type MysqlSequenceExtra = {
  /** SHOW CREATE SEQUENCE: options, engine and comment as the server spells them. */
  definition: string
  /**
   * `next_not_cached_value`: what NEXTVAL returns after a server restart, and so after a
   * restore, which sets it with SETVAL(…, 0).
   */
  nextValue: string
  cache: string
}
