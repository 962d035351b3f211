// MySQL/MariaDB through the mysql client: the bench's own database (created at the start, dropped
// at the end), a seeded generated table, sizes, and the tools a snapshot is compared with.

import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { pipeline } from 'node:stream/promises'
import { progress } from './results.ts'
import { run } from './run.ts'
import { MYSQL_URL } from './services.ts'

/** The URL of database `name` on the bench server. */
export function mysqlDatabaseUrl(name: string): string {
  const url = new URL(MYSQL_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * Client arguments and environment for the bench server: the password travels in MYSQL_PWD,
 * never on a command line `ps` shows.
 */
function clientArgs(): { args: string[]; env: NodeJS.ProcessEnv } {
  const url = new URL(MYSQL_URL)
  const args = [`--host=${url.hostname}`, `--port=${url.port || '3306'}`]
  if (url.username !== '') args.push(`--user=${decodeURIComponent(url.username)}`)
  const env = url.password === '' ? {} : { MYSQL_PWD: decodeURIComponent(url.password) }
  return { args, env }
}

/** Runs SQL (stopping at the first error) in `database`; returns the tab-separated output. */
export async function mysqlQuery(database: string | null, sql: string): Promise<string> {
  const { args, env } = clientArgs()
  const db = database === null ? [] : [`--database=${database}`]
  const out = await run('mysql', [...args, ...db, '--batch', '--skip-column-names', '-e', sql], {
    env,
  })
  return out.stdout.trim()
}

/** Creates an empty database `name` (dropping an interrupted run's leftover); returns its URL. */
export async function createMysqlDatabase(name: string): Promise<string> {
  await dropMysqlDatabase(name)
  await mysqlQuery(null, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  return mysqlDatabaseUrl(name)
}

export async function dropMysqlDatabase(name: string): Promise<void> {
  await mysqlQuery(null, `DROP DATABASE IF EXISTS \`${name}\``)
}

export async function mysqlServerVersion(): Promise<string> {
  return mysqlQuery(null, 'SELECT version()')
}

export interface GeneratedMysqlTable {
  name: string
  rows: number
  /** InnoDB data_length after ANALYZE: the clustered index, i.e. the rows as stored. */
  dataBytes: number
}

/** Rows per generating statement: one short transaction each, not one huge one. */
const ROWS_PER_INSERT = 100_000
/** About how many bytes of InnoDB data a generated row takes (measured on MariaDB 10.11). */
const BYTES_PER_ROW = 250

const WORDS = [
  'order', 'invoice', 'shipping', 'delivery', 'customer', 'account', 'payment', 'refund',
  'discount', 'coupon', 'express', 'standard', 'warehouse', 'berlin', 'paris', 'lisbon',
  'tokyo', 'austin', 'toronto', 'madrid', 'oslo', 'blue', 'green', 'large', 'small', 'cotton',
  'leather', 'wooden', 'steel', 'premium', 'basic', 'gómez',
] // prettier-ignore

/** `ELT(1 + ((h >> shift) & 31), …)`: one of the 32 words, drawn from 5 bits of hash `h`. */
function word(h: string, shift: number): string {
  return `ELT(1 + ((${h} >> ${shift}) & 31), ${WORDS.map((w) => `'${w}'`).join(', ')})`
}

/**
 * Creates and fills `table` with seeded rows of mixed types (integers, decimal, datetime, enum,
 * text, JSON, double, binary) computed from the row number alone, so every run sees the same
 * data; about `targetBytes` of InnoDB data. Ids are 10 × i.
 */
export async function generateMysqlTable(
  database: string,
  table: string,
  options: { targetBytes: number },
): Promise<GeneratedMysqlTable> {
  const rows = Math.max(1000, Math.round(options.targetBytes / BYTES_PER_ROW))
  await mysqlQuery(
    database,
    `CREATE TABLE digits (d TINYINT NOT NULL PRIMARY KEY);
     INSERT INTO digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
     CREATE TABLE \`${table}\` (
       id BIGINT NOT NULL PRIMARY KEY,
       customer_id INT UNSIGNED NOT NULL,
       created_at DATETIME(6) NOT NULL,
       amount DECIMAL(12, 2) NOT NULL,
       status ENUM('pending', 'paid', 'shipped', 'cancelled', 'refunded') NOT NULL,
       email VARCHAR(120) NOT NULL,
       note TEXT,
       attributes JSON,
       ratio DOUBLE,
       token BINARY(16) NOT NULL
     ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
  )
  const h = 'CRC32(i)'
  for (let start = 0; start < rows; start += ROWS_PER_INSERT) {
    const count = Math.min(ROWS_PER_INSERT, rows - start)
    await mysqlQuery(
      database,
      `INSERT INTO \`${table}\`
       SELECT i * 10, ${h} % 100000,
              TIMESTAMP('2025-01-01') + INTERVAL i SECOND + INTERVAL (${h} % 1000000) MICROSECOND,
              (${h} % 10000000) / 100, 1 + ${h} % 5,
              CONCAT(${word(h, 0)}, '.', ${word(h, 5)}, i, '@example.com'),
              IF(${h} % 7 = 0, NULL, CONCAT_WS(' ', ${word(h, 10)}, ${word(h, 15)}, ${word(h, 20)},
                 ${word(h, 25)}, ${word(`CRC32(i + 1)`, 0)}, ${word(`CRC32(i + 1)`, 5)},
                 REPEAT(${word(`CRC32(i + 2)`, 0)}, 1 + ${h} % 9))),
              JSON_OBJECT('plan', ${word(h, 3)}, 'seats', ${h} % 50, 'tags',
                 JSON_ARRAY(${word(h, 8)}, ${word(h, 13)})),
              ${h} / 4294967295e0, UNHEX(MD5(i))
         FROM (SELECT ${start} + a.d + 10 * b.d + 100 * c.d + 1000 * d.d + 10000 * e.d AS i
                 FROM digits a, digits b, digits c, digits d, digits e) n
        WHERE i < ${start + count}`,
    )
    progress(
      `generated ${(start + count).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows`,
    )
  }
  await mysqlQuery(database, `DROP TABLE digits; ANALYZE TABLE \`${table}\``)
  const dataBytes = Number(
    await mysqlQuery(
      database,
      `SELECT data_length FROM information_schema.tables WHERE table_schema = database() AND table_name = '${table}'`,
    ),
  )
  return { name: table, rows, dataBytes }
}

/**
 * `mysqldump --single-transaction --quick <db> | gzip > <file>`, the reference a snapshot is
 * measured against: the usual consistent logical backup of InnoDB. Returns wall seconds.
 */
export async function mysqldumpGzip(database: string, file: string): Promise<number> {
  const { args, env } = clientArgs()
  const started = performance.now()
  const dump = spawn('mysqldump', [...args, '--single-transaction', '--quick', database], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const gzip = spawn('gzip', [], { stdio: ['pipe', 'pipe', 'inherit'] })
  const errors: Buffer[] = []
  dump.stderr.on('data', (chunk: Buffer) => errors.push(chunk))
  const exited = (child: ReturnType<typeof spawn>, name: string): Promise<void> =>
    new Promise((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`${name} exited with ${code}: ${Buffer.concat(errors).toString()}`)),
      )
    })
  await Promise.all([
    pipeline(dump.stdout, gzip.stdin),
    pipeline(gzip.stdout, createWriteStream(file)),
    exited(dump, 'mysqldump'),
    exited(gzip, 'gzip'),
  ])
  return (performance.now() - started) / 1000
}

/** `mysql --quick -e "SELECT * FROM <table>" > /dev/null`: the floor of reading rows out; seconds. */
export async function selectToDevNull(database: string, table: string): Promise<number> {
  const { args, env } = clientArgs()
  const { seconds } = await run(
    'mysql',
    [...args, `--database=${database}`, '--quick', '--batch', '-e', `SELECT * FROM \`${table}\``],
    { env, stdout: 'ignore' },
  )
  return seconds
}
