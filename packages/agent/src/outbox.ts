// The agent's outbox: reports the control plane could not take yet (it is down, or the network
// is), kept on disk and delivered in order when it answers again, so nothing the agent did is
// lost across a restart. One file per report under `<state dir>/outbox`, named so that names sort
// in the order the reports were made, written to a temporary file, fsync'd, renamed into place
// and the directory fsync'd: a report is either wholly there or not at all. A delivered report's
// file is removed; delivering one twice is harmless (the control plane keys each report).
//
// A result whose lease expired while the report waited (409 LEASE_LOST) is not lost either: the
// repository holds the snapshot, so it is delivered as a job this agent ran on its own
// (`POST /agent/jobs/local`, naming the leased job), and the catalogue records it.

import { randomUUID } from 'node:crypto'
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { makeDirectories, type Logger } from '@dbsnap/engine/core'
import {
  ControlPlaneCallError,
  type ControlPlaneClient,
  type JobFailure,
  type LocalJobReport,
} from './control-plane-client.js'

export type OutboxEntry =
  | {
      type: 'result'
      jobId: string
      leaseId: string
      kind: string
      connectionId: string | null
      /** The control plane's spec of the job (for a LEASE_LOST result delivered as local). */
      spec: Record<string, unknown>
      startedAt: string
      finishedAt: string
      result: unknown
    }
  | { type: 'failure'; jobId: string; leaseId: string; error: JobFailure }
  | { type: 'local'; report: LocalJobReport }

const RETRY_MS = 5_000

export class Outbox {
  readonly #dir: string
  readonly #client: ControlPlaneClient
  readonly #logger: Logger
  #seq = 0
  #size = 0
  /** Deliveries run one at a time, so reports go out in order. */
  #delivering: Promise<boolean> = Promise.resolve(true)
  #timer: NodeJS.Timeout | undefined

  constructor(stateDir: string, client: ControlPlaneClient, logger: Logger) {
    this.#dir = join(stateDir, 'outbox')
    this.#client = client
    this.#logger = logger
  }

  /** Reports waiting to be delivered, oldest first. */
  async pending(): Promise<OutboxEntry[]> {
    const names = await this.#names()
    return Promise.all(
      names.map(async (n) => JSON.parse(await readFile(join(this.#dir, n), 'utf8')) as OutboxEntry),
    )
  }

  /** Reports kept and not yet delivered, as of the last append or delivery (the metrics' gauge). */
  get size(): number {
    return this.#size
  }

  /** Keeps `entry` on disk, then delivers what waits (this one last). */
  async submit(entry: OutboxEntry): Promise<void> {
    await this.append(entry)
    await this.flush()
  }

  /** Writes `entry` durably after every report already kept. */
  async append(entry: OutboxEntry): Promise<void> {
    await makeDirectories(this.#dir, 0o700)
    const seq = String(this.#seq++).padStart(6, '0')
    const name = `${String(Date.now()).padStart(15, '0')}-${seq}-${randomUUID()}.json`
    const temporary = join(this.#dir, `.${name}.tmp`)
    const file = await open(temporary, 'w', 0o600)
    try {
      await file.writeFile(JSON.stringify(entry))
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, join(this.#dir, name))
    await syncDir(this.#dir)
    this.#size++
  }

  /**
   * Delivers the kept reports in order; stops at the first the control plane cannot take now
   * (it is unreachable: the rest wait behind it). True when none is left.
   */
  flush(): Promise<boolean> {
    this.#delivering = this.#delivering.then(
      () => this.#deliverAll(),
      () => this.#deliverAll(),
    )
    return this.#delivering
  }

  /** Tries again every few seconds until `stop()`. */
  start(intervalMs = RETRY_MS): void {
    this.#timer ??= setInterval(() => void this.flush().catch(() => undefined), intervalMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#delivering.catch(() => undefined)
  }

  async #deliverAll(): Promise<boolean> {
    const names = await this.#names()
    this.#size = names.length
    for (const name of names) {
      const path = join(this.#dir, name)
      const entry = JSON.parse(await readFile(path, 'utf8')) as OutboxEntry
      try {
        await this.#deliver(entry)
      } catch (err) {
        if (err instanceof ControlPlaneCallError && err.retryable) return false
        // Refused for good (the job or connection is gone, the report is malformed): keeping it
        // would block every report behind it.
        this.#logger.error(
          { err: (err as Error).message, code: (err as { code?: unknown }).code, report: name },
          'the control plane refused a report of the outbox: dropped',
        )
      }
      await unlink(path)
      this.#size--
    }
    return true
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    switch (entry.type) {
      case 'failure':
        try {
          await this.#client.failure(entry.jobId, entry.leaseId, entry.error)
        } catch (err) {
          // The lease ran out meanwhile: the job went back to the queue, which retries it.
          if (!(err instanceof ControlPlaneCallError && err.code === 'LEASE_LOST')) throw err
          this.#logger.info(
            { jobId: entry.jobId },
            'a failure came after its lease: the queue retries the job',
          )
        }
        return
      case 'local':
        await this.#client.localJob(entry.report)
        return
      case 'result':
        try {
          await this.#client.result(entry.jobId, entry.leaseId, entry.result)
        } catch (err) {
          if (!(err instanceof ControlPlaneCallError && err.code === 'LEASE_LOST')) throw err
          if (
            entry.connectionId === null ||
            (entry.kind !== 'snapshot' && entry.kind !== 'retention')
          ) {
            return
          }
          this.#logger.info(
            { jobId: entry.jobId },
            'a result came after its lease: recorded as a job of this agent',
          )
          await this.#client.localJob({
            clientJobId: entry.leaseId,
            kind: entry.kind,
            connectionId: entry.connectionId,
            leasedJobId: entry.jobId,
            spec: entry.spec,
            startedAt: entry.startedAt,
            finishedAt: entry.finishedAt,
            result: entry.result,
          })
        }
        return
    }
  }

  async #names(): Promise<string[]> {
    try {
      return (await readdir(this.#dir))
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
