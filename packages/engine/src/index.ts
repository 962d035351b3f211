// Public API of the DBSnap engine: everything the CLI, agent and control plane may use. The
// subpath exports `core` (no drivers) and `testing` (test storages) give parts of it alone.

export * from './core.js'
export { parseConnectionUrl, redactUrl } from './connection/url.js'
export type { ConnectionTarget } from './connection/url.js'
export { connect, connectTarget } from './adapters/connect.js'
export { testConnection } from './adapters/test-connection.js'
export type { ConnectionTestResult } from './adapters/test-connection.js'
export type {
  ConnectOptions,
  ServerDescription,
  ServerIdentity,
  SourceAdapter,
} from './adapters/source-adapter.js'
export { parseDuration } from './util/duration.js'
export { printable } from './util/printable.js'
export { formatCount, plural } from './util/count-text.js'
export type { ReadTableOptions, ReadView } from './adapters/source-adapter.js'
export type { CanonicalRow, CanonicalValue, ValueEncoding } from './canonical/value-encoding.js'
export { compareBsonKeys } from './canonical/bson-order.js'
export type * from './schema/schema.js'
export type { ByteSource, ObjectInfo, Storage } from './storage/storage.js'
export { bytesSource } from './storage/storage.js'
export { openStorage } from './storage/open-storage.js'
export { Repository } from './repository/repository.js'
export { objectKey, manifestKey } from './repository/layout.js'
export type { StoredSnapshot, UnreadableSnapshot } from './repository/repository.js'
export type { RepositoryConfig } from './repository/repository-config.js'
export { DEFAULT_CODEC, formatCodec, parseCodec } from './repository/codec.js'
export { decodeColumnar, rowsToColumnar } from './repository/columnar.js'
export type { CodecName, CodecSpec } from './repository/codec.js'
export { tableKey, tableName } from './schema/table-name.js'
export type {
  ChunkEntry,
  SnapshotManifest,
  SnapshotTotals,
  TableEntry,
} from './repository/manifest.js'
export { createSnapshot } from './snapshot/snapshot.js'
export { holdGarbageGovernor, youngGenerationBounded } from './util/bounded-memory.js'
export { byCodeUnit } from './util/compare.js'
export type { TableSelector } from './schema/table-filter.js'
export type {
  SnapshotOptions,
  SnapshotProgress,
  SnapshotResult,
  SnapshotTableResult,
} from './snapshot/snapshot.js'
export { catalogueName, findTable, resolveSnapshot } from './snapshot/resolve-ref.js'
export { readSnapshotRows } from './repository/snapshot-rows.js'
export { diffOfChanges, diffSnapshots, summarize } from './diff/diff.js'
export { diffLive } from './diff/live-diff.js'
export {
  diffMarkdown,
  markdownCodeBlock,
  markdownText,
  rowLine,
  schemaLine,
  sideLine,
  summaryLine,
} from './diff/diff-markdown.js'
export type { MarkdownDiff, MarkdownOptions, MarkdownTable } from './diff/diff-markdown.js'
export type { LiveDiff, LiveDiffOptions } from './diff/live-diff.js'
export type { DiffOptions, SnapshotDiff, SnapshotSide } from './diff/diff.js'
export { DIFF_FORMAT, DIFF_FORMAT_VERSION } from './diff/diff-format.js'
export type * from './diff/diff-format.js'
export {
  BLOCK_CHANGES,
  DEFAULT_PAGE_SIZE,
  queryDiffPage,
  readSavedDiff,
  saveDiff,
} from './diff/saved-diff.js'
export type { DiffBlock, DiffPage, DiffPageQuery, SavedDiff } from './diff/saved-diff.js'
export { restoreSnapshot } from './restore/restore.js'
export { restoreObjects } from './repository/restore-objects.js'
export { restoreChangedRows } from './restore/only-changed.js'
export type { RestoreChangedRowsOptions } from './restore/only-changed.js'
export {
  EXPORT_FORMAT,
  EXPORT_FORMATS,
  EXPORT_FORMAT_VERSION,
  exportSnapshot,
} from './export/export.js'
export type { ExportFormat, ExportOptions, SqlDialect } from './export/export.js'
export type {
  RestoreOptions,
  RestoreProgress,
  RestoreResult,
  RestoredTable,
} from './restore/restore.js'
export type {
  OnConflict,
  RestoreMode,
  RestoreStep,
  RestoreTableOptions,
  RestoreTableResult,
  TargetAdapter,
  TargetTableState,
} from './adapters/target-adapter.js'
export type { RestoreObjects } from './repository/restore-objects.js'
export { parseDataSubset, verifyRepository } from './verify/verify.js'
export type { DataSubset, VerifyProblem, VerifyResult } from './verify/verify.js'
export { applyPolicy, forgetSnapshots } from './retention/forget.js'
export type { ForgetDecision, RetentionPolicy } from './retention/forget.js'
export { DEFAULT_PRUNE_GRACE_MS, pruneRepository } from './retention/prune.js'
export type { PruneResult } from './retention/prune.js'
export * from './jobs/index.js'
