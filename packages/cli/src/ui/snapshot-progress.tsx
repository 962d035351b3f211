// Live progress of `dbsnap snapshot` on a terminal (ink): one line per table being read, with
// rows, bytes, chunks new/reused and rate, and a total line.

import { Box, Text, render, type Instance } from 'ink'
import type { SnapshotProgress } from '@dbsnap/engine'
import { formatBytes, formatCount, printable } from '../format.js'

interface TableState {
  table: string
  estimatedRows: number | null
  rows: number
  bytes: number
  storedBytes: number
  chunksNew: number
  chunksReused: number
  done: boolean
}

interface ViewProps {
  name: string
  tables: TableState[]
  startedAt: number
  now: number
}

function SnapshotView({ name, tables, startedAt, now }: ViewProps): React.JSX.Element {
  const seconds = Math.max(0.001, (now - startedAt) / 1000)
  const rows = tables.reduce((a, t) => a + t.rows, 0)
  const bytes = tables.reduce((a, t) => a + t.bytes, 0)
  const stored = tables.reduce((a, t) => a + t.storedBytes, 0)
  const done = tables.filter((t) => t.done).length
  const active = tables.filter((t) => !t.done && (t.rows > 0 || t.chunksNew + t.chunksReused > 0))
  return (
    <Box flexDirection="column">
      {active.slice(0, 5).map((t) => (
        <Text key={t.table}>
          <Text color="cyan">{'⠿ '}</Text>
          {printable(t.table)}{' '}
          <Text dimColor>
            {formatCount(t.rows)}
            {t.estimatedRows !== null && t.estimatedRows > 0
              ? ` / ~${formatCount(t.estimatedRows)}`
              : ''}{' '}
            rows · {formatBytes(t.bytes)} · chunks {t.chunksNew} new, {t.chunksReused} reused
          </Text>
        </Text>
      ))}
      <Text>
        <Text bold>{printable(name)}</Text>: {done}/{tables.length} tables · {formatCount(rows)}{' '}
        rows · {formatBytes(bytes)} read · {formatBytes(stored)} stored ·{' '}
        {formatBytes(bytes / seconds)}/s
      </Text>
    </Box>
  )
}

/** Renders progress events to stderr until `stop()`. */
export class SnapshotProgressView {
  #instance: Instance | undefined
  #name = ''
  #tables: TableState[] = []
  readonly #startedAt = Date.now()
  #timer: NodeJS.Timeout | undefined

  update(event: SnapshotProgress): void {
    if (event.type === 'start') {
      this.#name = event.name
      this.#tables = event.tables.map((t) => ({
        table: t.table,
        estimatedRows: t.estimatedRows,
        rows: 0,
        bytes: 0,
        storedBytes: 0,
        chunksNew: 0,
        chunksReused: 0,
        done: false,
      }))
      this.#instance = render(this.#view(), { stdout: process.stderr, patchConsole: false })
      this.#timer = setInterval(() => this.#instance?.rerender(this.#view()), 200)
      return
    }
    const table = this.#tables.find((t) => t.table === event.table)
    if (table !== undefined) Object.assign(table, event)
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#instance?.clear()
    this.#instance?.unmount()
    this.#instance = undefined
  }

  #view(): React.JSX.Element {
    return (
      <SnapshotView
        name={this.#name}
        tables={this.#tables}
        startedAt={this.#startedAt}
        now={Date.now()}
      />
    )
  }
}
