// A diff job's row changes go to the control plane in numbered pages as the engine produces them
// (the engine's `renderDiff` sink), so the agent's memory stays bounded at any diff size: at most
// one page is held. A page is sent again while the control plane cannot be reached; the control
// plane stores each page once (a page sent twice replaces itself) and fences pages by the lease.
// Each page also names the columns of the tables its changes are in (the engine's
// `TableDiff.columns`), so the column names travel with the rows however many tables there are,
// and the result stays small (decision 0030). The job's result then carries the summary, schema
// changes and warnings, and how many changes were uploaded, which the control plane checks
// against what it stored.

import { CodedError } from '@dbsnap/engine/core'
import type { DiffJobResult, RowChange, SnapshotDiff, TableColumns } from '@dbsnap/engine'
import { ControlPlaneCallError, type ControlPlaneClient } from './control-plane-client.js'

export interface DiffUploadOptions {
  /** Changes in a page at most (the control plane takes 1,000). */
  maxPageChanges?: number
  /** JSON bytes of a page's changes at most (the control plane takes bodies of 1 MiB). */
  maxPageBytes?: number
  /** A change bigger than this is sent without its whole rows (`truncated`). */
  maxChangeBytes?: number
  /** JSON bytes of the result at most (the control plane takes bodies of 64 KiB). */
  maxResultBytes?: number
  /** Attempts of one page while the control plane cannot be reached, and the wait between. */
  attempts?: number
  retryMs?: number
}

type Uploaded = RowChange & { truncated?: true }

/** The column names of a table whose changes a page holds. */
interface PageTable {
  table: string
  columns: TableColumns
}

/** The diff job's result as the control plane records it. */
export interface UploadedDiffResult {
  summary: DiffJobResult['summary']
  schema: DiffJobResult['schema']
  warnings: string[]
  from: DiffJobResult['from']
  to: DiffJobResult['to']
  upload: { pages: number; changes: number }
  /** Schema changes were cut to fit the result: definitions dropped, then the list shortened. */
  schemaTruncated?: true
}

export class DiffUpload {
  readonly #client: ControlPlaneClient
  readonly #jobId: string
  readonly #leaseId: string
  readonly #options: Required<DiffUploadOptions>
  #pages = 0
  #changes = 0

  constructor(
    client: ControlPlaneClient,
    jobId: string,
    leaseId: string,
    options: DiffUploadOptions = {},
  ) {
    this.#client = client
    this.#jobId = jobId
    this.#leaseId = leaseId
    this.#options = {
      maxPageChanges: 500,
      maxPageBytes: 768 * 1024,
      maxChangeBytes: 256 * 1024,
      maxResultBytes: 48 * 1024,
      attempts: 12,
      retryMs: 5_000,
      ...options,
    }
  }

  /** The engine's `renderDiff`: reads the diff's row changes once, sending them page by page. */
  readonly render = async (diff: SnapshotDiff): Promise<void> => {
    const { maxPageChanges, maxPageBytes } = this.#options
    const columns = new Map(diff.tables.map((t) => [t.table, t.columns]))
    let page: Uploaded[] = []
    let tables = new Map<string, PageTable>()
    let bytes = 0
    // A table's columns go with each page holding one of its changes, counted in its bytes.
    const tableOf = (change: RowChange): { table?: PageTable; size: number } => {
      const known = columns.get(change.table)
      if (known === undefined || tables.has(change.table)) return { size: 0 }
      const table = { table: change.table, columns: known }
      return { table, size: Buffer.byteLength(JSON.stringify(table)) }
    }
    for await (const change of diff.rowChanges()) {
      const { item, size } = this.#fit(change)
      let table = tableOf(change)
      const full = page.length >= maxPageChanges || bytes + size + table.size > maxPageBytes
      if (page.length > 0 && full) {
        await this.#send(page, [...tables.values()])
        page = []
        tables = new Map()
        bytes = 0
        table = tableOf(change)
      }
      if (table.table !== undefined) tables.set(change.table, table.table)
      page.push(item)
      bytes += size + table.size
    }
    if (page.length > 0) await this.#send(page, [...tables.values()])
  }

  /** What to report as the job's result, from the engine's. */
  result(engine: DiffJobResult): UploadedDiffResult {
    const result: UploadedDiffResult = {
      summary: engine.summary,
      schema: engine.schema,
      warnings: engine.warnings,
      from: engine.from,
      to: engine.to,
      upload: { pages: this.#pages, changes: this.#changes },
    }
    const fits = () => Buffer.byteLength(JSON.stringify(result)) <= this.#options.maxResultBytes
    if (fits()) return result
    result.schemaTruncated = true
    result.schema = engine.schema.map(({ old: _old, new: _new, ...rest }) => rest)
    while (!fits() && result.schema.length > 0) {
      result.schema = result.schema.slice(0, Math.floor(result.schema.length / 2))
    }
    return result
  }

  /** The change, or without its whole rows when it is too big to send. */
  #fit(change: RowChange): { item: Uploaded; size: number } {
    const size = Buffer.byteLength(JSON.stringify(change))
    if (size <= this.#options.maxChangeBytes) return { item: change, size }
    const { old: _old, new: _new, ...rest } = change
    let item: Uploaded = { ...rest, truncated: true }
    if (Buffer.byteLength(JSON.stringify(item)) > this.#options.maxChangeBytes) {
      // Even the changed fields are too big: the key and the columns' names remain.
      item = {
        ...rest,
        fields: (rest.fields ?? []).map((f) => ({ column: f.column, old: null, new: null })),
        truncated: true,
      }
    }
    return { item, size: Buffer.byteLength(JSON.stringify(item)) }
  }

  async #send(changes: Uploaded[], tables: PageTable[]): Promise<void> {
    const page = this.#pages
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client.diffChanges(this.#jobId, this.#leaseId, page, changes, tables)
        break
      } catch (err) {
        const retry =
          err instanceof ControlPlaneCallError && err.retryable && attempt < this.#options.attempts
        if (!retry) throw uploadError(err)
        await new Promise((resolve) => setTimeout(resolve, this.#options.retryMs))
      }
    }
    this.#pages++
    this.#changes += changes.length
  }
}

/** A failed upload, as the job's failure: retryable when the control plane was unreachable. */
function uploadError(err: unknown): CodedError<string> {
  const call = err instanceof ControlPlaneCallError ? err : undefined
  return new CodedError(
    call?.code === 'LEASE_LOST' ? 'LEASE_LOST' : 'DIFF_UPLOAD_FAILED',
    `cannot upload the diff's changes: ${(err as Error).message}`,
    { cause: err, retryable: call?.retryable ?? false },
  )
}
