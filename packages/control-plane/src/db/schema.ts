// The control plane's tables as Kysely sees them (camelCase here, snake_case in SQL through
// CamelCasePlugin). Migrations create them; this file must say what the latest migration made.
//
// Conventions, the same on both dialects so that code and tests cannot tell them apart:
// - ids are UUIDv7 text (`db/ids.ts`), made by the application;
// - times are ISO-8601 UTC strings with milliseconds (`2026-12-03T10:55:20.123Z`), made by the
//   application: `timestamptz` on PostgreSQL (read back into the same form), `text` on SQLite,
//   where that fixed-width form sorts and compares in time order;
// - days are `YYYY-MM-DD` strings (`date` on PostgreSQL, `text` on SQLite);
// - no booleans (SQLite has none): a nullable time says when something became true.

import type { Selectable } from 'kysely'

/** ISO-8601 UTC time with milliseconds, as `Date.prototype.toISOString()` writes it. */
export type Timestamp = string

/** What a member may do in an organisation; the permission table maps roles to actions. */
export type Role = 'admin' | 'member' | 'read-only'

export interface UsersTable {
  id: string
  /** As the user typed it, for display and mail. */
  email: string
  /** `email` case-folded (`normalizeEmail`): the unique key, the same rule on both dialects. */
  emailNormalized: string
  /** argon2id PHC string; null for an account that signs in only through a linked identity. */
  passwordHash: string | null
  emailVerifiedAt: Timestamp | null
  /** When the account became the instance's administrator (first-run setup); null for others. */
  instanceAdminAt: Timestamp | null
  createdAt: Timestamp
  updatedAt: Timestamp
}

/** A one-time setup link's token, logged at a first start with no accounts (data/setup.ts). */
export interface SetupTokensTable {
  /** SHA-256 (hex) of the token. */
  tokenHash: string
  createdAt: Timestamp
  expiresAt: Timestamp
  usedAt: Timestamp | null
}

export interface OrgsTable {
  id: string
  name: string
  /** Unique among organisations; lower-case letters, digits and dashes. */
  slug: string
  createdAt: Timestamp
}

export interface MembershipsTable {
  orgId: string
  userId: string
  role: Role
  createdAt: Timestamp
}

export interface ProjectsTable {
  id: string
  orgId: string
  name: string
  /** Unique within the organisation. */
  slug: string
  createdAt: Timestamp
  /** Where its agents keep snapshots: a directory or `s3://bucket/prefix`; null: each agent's own. */
  repository: string | null
}

/** A database the agent snapshots. Exactly one way to its credential: encrypted here, a reference the agent resolves, or none. */
export interface ConnectionsTable {
  id: string
  projectId: string
  name: string
  engine: 'postgres' | 'mysql' | 'mongodb'
  /** The URL with its password replaced, safe to show. */
  redactedUrl: string
  /** AES-256-GCM ciphertext (base64) of the credential, under the key `credentialKeyId`. */
  credentialCiphertext: string | null
  credentialKeyId: string | null
  /** `env:NAME` or `file:/path`, resolved by the agent so the secret never leaves its network. */
  credentialRef: string | null
  /** Sealed JSON `{ ca?, cert?, key? }` (PEM) under the key `tlsKeyId`; both null without TLS. */
  tlsCiphertext: string | null
  tlsKeyId: string | null
  createdAt: Timestamp
  updatedAt: Timestamp
}

/** One sign-in on one device: the family of its rotating refresh tokens. */
export interface SessionsTable {
  id: string
  userId: string
  ip: string | null
  userAgent: string | null
  createdAt: Timestamp
  lastSeenAt: Timestamp
  /** The session ends then even if its refresh tokens keep rotating (absolute lifetime). */
  expiresAt: Timestamp
  revokedAt: Timestamp | null
  /** Why it ended: `logout`, `revoked`, `logout-everywhere`, `refresh-token-reused`. */
  revokedReason: string | null
}

/** Every refresh token a session was given; a rotated one presented again revokes the session. */
export interface RefreshTokensTable {
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  tokenHash: string
  sessionId: string
  createdAt: Timestamp
  /** When it was exchanged for its successor; null for the session's current token. */
  rotatedAt: Timestamp | null
}

export interface ApiKeysTable {
  id: string
  /** The key's public start (`dbs_` and 12 characters), unique: how a presented key is found. */
  prefix: string
  /** SHA-256 (hex) of the whole key. */
  keyHash: string
  name: string
  /** Space-separated scopes, as OAuth writes them (`snapshots:read diffs:read`). */
  scopes: string
  orgId: string
  /** Null for a key of the whole organisation. */
  projectId: string | null
  /** The user who created it: the key can do no more than this user's role allows. */
  createdBy: string
  createdAt: Timestamp
  expiresAt: Timestamp | null
  lastUsedAt: Timestamp | null
  revokedAt: Timestamp | null
  /** The key this one replaced (rotation); the old one stays valid until its `expiresAt`. */
  rotatedFromId: string | null
}

export interface ApiKeyUsageTable {
  apiKeyId: string
  day: string
  count: number
}

/** Append-only (triggers refuse UPDATE and DELETE); each event's hash covers the previous one's. */
export interface AuditEventsTable {
  id: string
  /** The hash chain this event extends: the organisation's id, or `instance` for events of no organisation. */
  chain: string
  /** 1, 2, 3… within the chain; unique with it (writers take turns on `audit_chain_heads`). */
  seq: number
  occurredAt: Timestamp
  actorType: 'user' | 'api_key' | 'system' | 'anonymous'
  actorId: string | null
  orgId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  ip: string | null
  traceId: string | null
  /** JSON object with the action's own facts; never a secret. */
  details: string
  /** The previous event's `hash` in the chain (64 zeros for the first). */
  prevHash: string
  /** SHA-256 (hex) of this event's fields and `prevHash`. */
  hash: string
}

/** The last event of each audit chain: what the next event extends, and the lock writers take turns on. */
export interface AuditChainHeadsTable {
  chain: string
  /** The last event's `seq` (0 before the first). */
  seq: number
  /** The last event's `hash` (64 zeros before the first). */
  hash: string
}

/** A rate limit's counter for one key (`login-ip:203.0.113.7`, …) in its current fixed window. */
export interface RateLimitsTable {
  key: string
  /** When the current window began; a hit in a later window starts it again at 1. */
  windowStart: Timestamp
  hits: number
}

/** A `dbsnap-agent` of a project: created with a one-time registration token, then its own credential. */
export interface AgentsTable {
  id: string
  /** Null for the control plane's embedded agent, which runs the jobs of every project. */
  projectId: string | null
  name: string
  /** SHA-256 (hex) of the one-time registration token; null once used. */
  registrationTokenHash: string | null
  registrationExpiresAt: Timestamp | null
  /** SHA-256 (hex) of the agent's credential; null until it registers. */
  credentialHash: string | null
  registeredAt: Timestamp | null
  version: string | null
  hostname: string | null
  lastSeenAt: Timestamp | null
  createdBy: string | null
  createdAt: Timestamp
  revokedAt: Timestamp | null
}

export type JobKind =
  'snapshot' | 'diff' | 'verify' | 'retention' | 'export' | 'connection-test' | 'restore'

/**
 * `pending` (waiting, or waiting to be retried after `runAfter`) -> `running` (leased) ->
 * `succeeded` | `failed` (an error retrying cannot mend) | `dead` (out of attempts: the
 * dead-letter queue) | `cancelled`.
 */
export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'dead' | 'cancelled'

export interface JobsTable {
  id: string
  projectId: string
  connectionId: string | null
  kind: JobKind
  /** JSON of the engine's job spec, connections named by id: never a secret. */
  spec: string
  state: JobState
  /** Leases taken so far (a lease that expires counts). */
  attempts: number
  maxAttempts: number
  /** Not leased before this time (retry backoff). */
  runAfter: Timestamp
  /** Random id of the current lease: reports of any other lease are refused. */
  leaseId: string | null
  leasedBy: string | null
  leaseExpiresAt: Timestamp | null
  cancelRequestedAt: Timestamp | null
  /** JSON of the last progress event the agent reported. */
  progress: string | null
  /** JSON of the job's result, once it succeeded. */
  result: string | null
  /** JSON `{ code, message, retryable, stack? }` of the last failure. */
  error: string | null
  /** Who asked for it: `user:<id>`, `api_key:<id>`, `schedule:<id>`. */
  createdBy: string
  createdAt: Timestamp
  updatedAt: Timestamp
  startedAt: Timestamp | null
  finishedAt: Timestamp | null
}

/** What happened to a job, in order: created, leased, heartbeat-less transitions, finished. */
export interface JobEventsTable {
  /** UUIDv7: events sort by id in the order they were written. */
  id: string
  jobId: string
  at: Timestamp
  type: string
  agentId: string | null
  /** The attempt it belongs to (0 before the first lease). */
  attempt: number
  /** JSON object with the event's own facts. */
  details: string
}

/** A snapshot an agent took, as it reported it: metadata only (the repository holds the data). */
export interface SnapshotsTable {
  projectId: string
  /** The engine's snapshot id. */
  id: string
  connectionId: string | null
  jobId: string | null
  agentId: string | null
  /** Catalogue name (`<name>@latest`). */
  name: string
  /** Where the agent stored it: a directory on the agent's machine or `s3://…`. */
  repository: string
  startedAt: Timestamp
  finishedAt: Timestamp
  durationMs: number
  tables: number
  rows: number
  /** Uncompressed canonical bytes of all rows. */
  bytes: number
  /** Compressed bytes this snapshot added to the repository. */
  newBytes: number
  chunks: number
  reusedChunks: number
  /** JSON object of tags. */
  tags: string
  /** JSON array of the engine's caveats. */
  warnings: string
  createdAt: Timestamp
  /** `postgres` | `mysql` | `mongodb`, the server's version and the schema's SHA-256; null before 0009. */
  engine: string | null
  serverVersion: string | null
  schemaFingerprint: string | null
  /** The last verify job that checked it, and the problems it found there. */
  verifiedAt: Timestamp | null
  verifyProblems: number | null
}

/** An export job's file: a presigned S3 URL (the agent made it), or a file here, served once. */
export interface ExportsTable {
  jobId: string
  projectId: string
  storage: 's3' | 'local'
  url: string | null
  /** The file's name in the export directory (`local`). */
  file: string | null
  /** The name a download is saved under: `<snapshot>.<ext>`. */
  fileName: string
  bytes: number
  createdAt: Timestamp
  expiresAt: Timestamp
  servedAt: Timestamp | null
}

/** A diff a user asked for; its state is its job's (migration 0008-diffs). */
export interface DiffsTable {
  id: string
  projectId: string
  jobId: string
  connectionId: string | null
  fromSnapshotId: string
  fromName: string
  fromTakenAt: Timestamp
  /** Null for a diff against the live database. */
  toSnapshotId: string | null
  toName: string | null
  toTakenAt: Timestamp | null
  /** JSON `{ tables?, exclude?, schemaOnly?, dataOnly? }`. */
  options: string
  /** The lease whose pages are stored; a page of another lease clears them first. */
  leaseId: string | null
  /** JSON of the engine's DiffSummary, once the job succeeded. */
  summary: string | null
  /** JSON array of the engine's SchemaChange, once the job succeeded. */
  schemaChanges: string | null
  /**
   * JSON array `{ table, added, removed, modified, columns }`, once the job succeeded; `columns`
   * (the engine's TableColumns, or null) is absent in diffs that succeeded before migration 0010.
   */
  tableCounts: string | null
  /** JSON array of the live read's caveats. */
  warnings: string
  createdBy: string
  createdAt: Timestamp
}

/** One row change of a diff, as the agent uploaded it. */
export interface DiffChangesTable {
  diffId: string
  /** page × page size + index in the page: the order the engine produced it in. */
  seq: number
  page: number
  tableName: string
  change: 'added' | 'removed' | 'modified'
  /** Lower-cased text of the key and the values, what `q` matches. */
  search: string
  /** JSON of the engine's RowChange. */
  body: string
}

/**
 * The column names of a table of a diff, as the agent's pages name them, until the job succeeds
 * and they join `diffs.tableCounts` (migration 0010-diff-table-columns).
 */
export interface DiffTableColumnsTable {
  diffId: string
  tableName: string
  /** JSON of the engine's TableColumns: `{ key, old, new }`. */
  columns: string
}

/** A connection's cron schedule (croner syntax, 5 or 6 fields) in a time zone. */
export interface SchedulesTable {
  id: string
  projectId: string
  connectionId: string
  cron: string
  /** IANA time zone the cron expression is read in. */
  timezone: string
  /** Null while enabled. */
  pausedAt: Timestamp | null
  /** JSON of the retention policy run after each scheduled snapshot; null for none. */
  retention: string | null
  /** The scheduled time of the last run a job was created for. */
  lastRunAt: Timestamp | null
  createdBy: string
  createdAt: Timestamp
  updatedAt: Timestamp
}

/** A snapshot a retention forgot: never catalogued again (migration 0007-schedules). */
export interface ForgottenSnapshotsTable {
  projectId: string
  id: string
  forgottenAt: Timestamp
}

/** A key that makes creating a job idempotent (a schedule's tick, an agent's local job). */
export interface JobKeysTable {
  key: string
  jobId: string
}

export interface Database {
  users: UsersTable
  orgs: OrgsTable
  memberships: MembershipsTable
  projects: ProjectsTable
  connections: ConnectionsTable
  sessions: SessionsTable
  refreshTokens: RefreshTokensTable
  apiKeys: ApiKeysTable
  apiKeyUsage: ApiKeyUsageTable
  auditEvents: AuditEventsTable
  auditChainHeads: AuditChainHeadsTable
  rateLimits: RateLimitsTable
  setupTokens: SetupTokensTable
  agents: AgentsTable
  jobs: JobsTable
  jobEvents: JobEventsTable
  snapshots: SnapshotsTable
  exports: ExportsTable
  diffs: DiffsTable
  diffChanges: DiffChangesTable
  diffTableColumns: DiffTableColumnsTable
  schedules: SchedulesTable
  jobKeys: JobKeysTable
  forgottenSnapshots: ForgottenSnapshotsTable
}

export type User = Selectable<UsersTable>
export type Org = Selectable<OrgsTable>
export type Membership = Selectable<MembershipsTable>
export type Project = Selectable<ProjectsTable>
export type Session = Selectable<SessionsTable>
export type ApiKey = Selectable<ApiKeysTable>
export type AuditEvent = Selectable<AuditEventsTable>
export type Agent = Selectable<AgentsTable>
export type Job = Selectable<JobsTable>
export type JobEvent = Selectable<JobEventsTable>
export type CatalogueSnapshot = Selectable<SnapshotsTable>
export type ExportRow = Selectable<ExportsTable>
export type DiffRow = Selectable<DiffsTable>
export type DiffChangeRow = Selectable<DiffChangesTable>
export type Schedule = Selectable<SchedulesTable>
