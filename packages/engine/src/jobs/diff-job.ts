// The diff job: two snapshots, or a snapshot and the live database, compared; the row changes
// rendered by the caller (the CLI), stored in the repository (`save`), or only counted.

import { redactUrl } from '../connection/url.js'
import { diffSnapshots, type SnapshotDiff } from '../diff/diff.js'
import type {
  DiffSide,
  DiffSummary,
  RowChange,
  SchemaChange,
  TableDiff,
} from '../diff/diff-format.js'
import { diffLive, type LiveDiff } from '../diff/live-diff.js'
import { saveDiff } from '../diff/saved-diff.js'
import { resolveSnapshot } from '../snapshot/resolve-ref.js'
import { withRepository, type JobContext } from './context.js'
import { TableSums, type JobProgress } from './events.js'
import type { DiffJobSpec } from './spec.js'

/** What a diff job returns: the diff without its row changes (rendered, saved or counted). */
export interface DiffJobResult {
  format: SnapshotDiff['format']
  version: SnapshotDiff['version']
  from: DiffSide
  to: DiffSide
  summary: DiffSummary
  schema: SchemaChange[]
  tables: TableDiff[]
  /** The saved diff's id (`save`), to page with `dbsnap diffs <id>`; else null. */
  saved: string | null
  /** Caveats of a live read (no point-in-time view on this server, …); empty when none. */
  warnings: string[]
}

export async function runDiffJob(spec: DiffJobSpec, context: JobContext): Promise<DiffJobResult> {
  const { signal, logger, progress } = context
  return withRepository(spec.repository, { signal }, async (repository) => {
    const from = await resolveSnapshot(repository, spec.from, { signal })
    const options = {
      tables: spec.tables,
      exclude: spec.exclude,
      schemaOnly: spec.schemaOnly,
      dataOnly: spec.dataOnly,
      signal,
    }
    let live: LiveDiff | undefined
    let diff: SnapshotDiff
    if (spec.live === undefined) {
      const to = await resolveSnapshot(repository, spec.to!, { signal })
      diff = diffSnapshots({ repository, snapshot: from }, { repository, snapshot: to }, options)
    } else {
      logger.info({ url: redactUrl(spec.live) }, 'live diff starting')
      progress.phase('reading', { unit: 'rows' })
      const read = new TableSums()
      live = await diffLive({ repository, snapshot: from }, spec.live, {
        ...options,
        maxRowsPerSecond: spec.maxRowsPerSecond,
        logger,
        onProgress: (event) => {
          if (event.type !== 'table') return
          progress.table(event.table)
          progress.update(0, read.set(event.table, { rowsRead: event.rows }))
        },
      })
      diff = live
    }
    try {
      const warnings = live?.warnings ?? []
      for (const warning of warnings) logger.warn(warning)
      progress.phase('comparing', { unit: 'changes', done: 0 })
      const counted = countingChanges(diff, progress)
      let saved: string | null = null
      if (spec.save === true) saved = (await saveDiff(repository, counted, { signal })).id
      else if (context.renderDiff !== undefined) await context.renderDiff(counted, warnings)
      else for await (const change of counted.rowChanges()) void change
      return {
        format: diff.format,
        version: diff.version,
        from: diff.from,
        to: diff.to,
        summary: diff.summary(),
        schema: diff.schema,
        tables: diff.tables,
        saved,
        warnings,
      }
    } finally {
      await live?.close()
    }
  })
}

/** `diff` whose row changes, as they are read, advance the job's progress. */
function countingChanges(diff: SnapshotDiff, progress: JobProgress): SnapshotDiff {
  const counters = { added: 0, removed: 0, modified: 0 }
  let changes = 0
  return {
    ...diff,
    summary: () => diff.summary(),
    async *rowChanges(): AsyncGenerator<RowChange> {
      for await (const change of diff.rowChanges()) {
        counters[change.change]++
        progress.table(change.table)
        progress.update(++changes, counters)
        yield change
      }
    },
  }
}
